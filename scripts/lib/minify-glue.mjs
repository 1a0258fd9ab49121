// Minifies the package's JavaScript in place: the wasm-bindgen glue and any JS snippets under
// the package folder. The glue is mostly JSDoc and long local names; minified it is about a
// third of its size. Export names, property names (the wasm import object's keys) and class
// names (`err.constructor.name`, `instanceof` messages) are kept.
//
//   node scripts/lib/minify-glue.mjs pkg
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { minify } from "terser";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: minify-glue.mjs <package folder>");
  process.exit(2);
}

function jsFiles(d) {
  return readdirSync(d).flatMap((name) => {
    const p = join(d, name);
    if (statSync(p).isDirectory()) return name === "node_modules" ? [] : jsFiles(p);
    return name.endsWith(".js") || name.endsWith(".mjs") ? [p] : [];
  });
}

for (const file of jsFiles(dir)) {
  const source = readFileSync(file, "utf8");
  const out = await minify(source, {
    module: true,
    compress: { passes: 2 },
    mangle: true,
    keep_classnames: true,
    format: { comments: false },
  });
  if (typeof out.code !== "string") throw new Error(`terser produced nothing for ${file}`);
  writeFileSync(file, out.code);
  console.log(`minified ${file}: ${source.length} -> ${out.code.length} bytes`);
}
