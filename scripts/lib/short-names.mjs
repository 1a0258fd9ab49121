// Shortens the names by which the package's glue and wasm module know each other.
//
// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and many exports after Rust
// paths (`wasm_bindgen__convert__closures_____invoke__h…`). They are private to the package:
// only convene.js instantiates the module. Long random names cost about 5 KB of gzip across the
// two files, so this renames each import of the glue's module and each internal export to a
// one- or two-letter name, in the wasm and in convene.js alike. Public exports (the names the
// glue re-exports, `memory`) keep their names.
//
// It checks that every renamed import occurs exactly once in the glue (the key of the import
// object) and that the rewritten wasm still compiles; any surprise stops the build.
//
//   node scripts/lib/short-names.mjs pkg
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: short-names.mjs <package folder>");
  process.exit(2);
}
const wasmPath = join(dir, "convene_bg.wasm");
const jsPath = join(dir, "convene.js");
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

const GLUE_MODULE = "./convene_bg.js";
// Exports wasm-bindgen uses internally (the glue calls them; users never see them).
const INTERNAL_EXPORT = /^(__wbg_.*_free|.*__c|.*_new|__wbindgen_.*|__externref_.*|wasm_bindgen__.*)$/;

let pos = 0;
function u32() {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = wasm[pos++];
    result |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) return result >>> 0;
    shift += 7;
  }
}
function name() {
  const len = u32();
  const s = wasm.subarray(pos, pos + len).toString("utf8");
  pos += len;
  return s;
}
function leb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
}
function encName(s) {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([leb(b.length), b]);
}
function limits() {
  const flags = wasm[pos++];
  u32();
  if (flags & 1) u32();
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
let next = 0;
function fresh(prefix) {
  let n = next++;
  let s = "";
  do {
    s += LETTERS[n % LETTERS.length];
    n = Math.floor(n / LETTERS.length);
  } while (n);
  return prefix + s;
}

const renamedImports = new Map();
const renamedExports = new Map();
const parts = [wasm.subarray(0, 8)];
pos = 8;
while (pos < wasm.length) {
  const id = wasm[pos++];
  const len = u32();
  const start = pos;
  if (id === 2 || id === 7) {
    const count = u32();
    const body = [leb(count)];
    for (let i = 0; i < count; i++) {
      if (id === 2) {
        const module = name();
        const field = name();
        const descStart = pos;
        const kind = wasm[pos++];
        if (kind === 0 || kind === 4) {
          if (kind === 4) pos++;
          u32();
        } else if (kind === 1) {
          pos++;
          limits();
        } else if (kind === 2) {
          limits();
        } else if (kind === 3) {
          pos += 2;
        } else {
          throw new Error(`unknown import kind ${kind} for ${module}.${field}`);
        }
        let out = field;
        if (module === GLUE_MODULE) {
          out = fresh("");
          renamedImports.set(field, out);
        }
        body.push(encName(module), encName(out), wasm.subarray(descStart, pos));
      } else {
        const field = name();
        const kind = wasm[pos++];
        const index = u32();
        let out = field;
        if (INTERNAL_EXPORT.test(field)) {
          out = fresh("$");
          renamedExports.set(field, out);
        }
        body.push(encName(out), Buffer.from([kind]), leb(index));
      }
    }
    if (pos !== start + len) throw new Error(`section ${id} did not parse to its end`);
    const b = Buffer.concat(body);
    parts.push(Buffer.from([id]), leb(b.length), b);
  } else {
    parts.push(Buffer.from([id]), leb(len), wasm.subarray(start, start + len));
  }
  pos = start + len;
}

function token(s) {
  return new RegExp(`(?<![A-Za-z0-9_$])${s.replace(/\$/g, "\\$")}(?![A-Za-z0-9_$])`, "g");
}
for (const [from, to] of renamedImports) {
  const re = token(from);
  const n = (js.match(re) || []).length;
  if (n !== 1) throw new Error(`import ${from} occurs ${n} times in the glue (expected once)`);
  js = js.replace(re, to);
}
for (const [from, to] of renamedExports) js = js.replace(token(from), to);

const out = Buffer.concat(parts);
// Still a valid module (throws if not).
new WebAssembly.Module(out);
writeFileSync(wasmPath, out);
writeFileSync(jsPath, js);
// wasm-bindgen's description of the raw exports no longer matches their names; the glue is the
// module's only user.
rmSync(join(dir, "convene_bg.wasm.d.ts"), { force: true });
console.log(
  `short names: ${renamedImports.size} imports, ${renamedExports.size} exports; ` +
    `wasm ${wasm.length} -> ${out.length} bytes`,
);
