// Merges pkg-template/ into the wasm-pack output in pkg/:
//  - pkg-template/package.json is deep-merged over pkg/package.json (the template wins; the
//    `files` lists are joined);
//  - every file under pkg-template/append/ is appended to the pkg/ file of the same path
//    (e.g. append/convene.js extends the generated glue, where it sees the glue's classes), with
//    its `//` comment lines and indentation dropped: it ships, so it stays small;
//  - every other file of pkg-template/ (README.md, extra .d.ts, ...) is copied into pkg/ and
//    added to `files`.
// Usage: node merge-pkg.mjs <pkg dir> <template dir>
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [pkgDir, templateDir] = process.argv.slice(2);
const pkgJsonPath = join(pkgDir, 'package.json');
const pkg = JSON.parse(readFileSync(pkgJsonPath, 'utf8'));

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
function merge(base, over) {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === 'files' && Array.isArray(value) && Array.isArray(base[key])) {
      out[key] = [...new Set([...base[key], ...value])];
    } else if (isObject(value) && isObject(base[key])) {
      out[key] = merge(base[key], value);
    } else {
      out[key] = value;
    }
  }
  return out;
}
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

let merged = pkg;
const copied = [];
const appended = [];
if (existsSync(templateDir)) {
  const templateJson = join(templateDir, 'package.json');
  if (existsSync(templateJson)) {
    merged = merge(merged, JSON.parse(readFileSync(templateJson, 'utf8')));
  }
  for (const file of walk(templateDir)) {
    const rel = relative(templateDir, file);
    if (rel === 'package.json') continue;
    if (/^append[\\/]/.test(rel)) {
      const target = join(pkgDir, relative(join(templateDir, 'append'), file));
      const tail = readFileSync(file, 'utf8').split('\n')
        .map((l) => l.trim()).filter((l) => l && !l.startsWith('//')).join('\n');
      writeFileSync(target, readFileSync(target, 'utf8') + '\n' + tail + '\n');
      appended.push(rel.split('\\').join('/'));
      continue;
    }
    cpSync(file, join(pkgDir, rel));
    copied.push(rel.split('\\').join('/'));
  }
}
if (Array.isArray(merged.files)) {
  merged.files = [...new Set([...merged.files, ...copied.filter((f) => f !== 'README.md')])];
}
writeFileSync(pkgJsonPath, JSON.stringify(merged, null, 2) + '\n');
console.log(`pkg: ${merged.name}@${merged.version}` +
  (copied.length ? `, added from pkg-template: ${copied.join(', ')}` : '') +
  (appended.length ? `, appended: ${appended.join(', ')}` : ''));
