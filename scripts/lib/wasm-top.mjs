// Prints where a wasm module's code bytes go: function body sizes grouped by crate / area and
// by function family (generic arguments and hashes removed), largest first. Needs the module's
// "name" section (a release build without `strip`, optimised with `wasm-opt -g`).
//
//   node scripts/lib/wasm-top.mjs module.wasm [rows]
import { readFileSync } from "node:fs";

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: wasm-top.mjs module.wasm [rows]");
  process.exit(2);
}
const rows = Number(rowsArg || 15);
const buf = readFileSync(file);

function leb(pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [result, pos];
  }
}
function name(pos) {
  const [len, start] = leb(pos);
  return [buf.toString("utf8", start, start + len), start + len];
}

let importedFuncs = 0;
const bodies = [];
const names = new Map();
let dataBytes = 0;
let pos = 8;
while (pos < buf.length) {
  const id = buf[pos++];
  let size;
  [size, pos] = leb(pos);
  const end = pos + size;
  if (id === 2) {
    let [count, p] = leb(pos);
    for (let i = 0; i < count; i++) {
      [, p] = name(p);
      [, p] = name(p);
      const kind = buf[p++];
      if (kind === 0) {
        [, p] = leb(p);
        importedFuncs++;
      } else if (kind === 1 || kind === 2) {
        if (kind === 1) p++;
        const flags = buf[p++];
        [, p] = leb(p);
        if (flags & 1) [, p] = leb(p);
      } else if (kind === 3) {
        p += 2;
      } else {
        [, p] = leb(p + 1);
      }
    }
  } else if (id === 10) {
    let [count, p] = leb(pos);
    for (let i = 0; i < count; i++) {
      const [len, body] = leb(p);
      bodies.push(len + (body - p));
      p = body + len;
    }
  } else if (id === 11) {
    dataBytes = size;
  } else if (id === 0) {
    const [section, p0] = name(pos);
    if (section === "name") {
      let p = p0;
      while (p < end) {
        const sub = buf[p++];
        let subSize;
        [subSize, p] = leb(p);
        const subEnd = p + subSize;
        if (sub === 1) {
          let [count, q] = leb(p);
          for (let i = 0; i < count; i++) {
            let idx;
            [idx, q] = leb(q);
            let n;
            [n, q] = name(q);
            names.set(idx, n);
          }
        }
        p = subEnd;
      }
    }
  }
  pos = end;
}

function family(n) {
  let k = n.replace(/::h[0-9a-f]{16}$/, "").replace(/\[[0-9a-f]{16}\]/g, "");
  for (let prev = ""; prev !== k; ) {
    prev = k;
    k = k.replace(/<[^<>]*>/g, "");
  }
  return k.slice(0, 100);
}
function area(n) {
  const own = n.match(/^(convene::(?:api|web)(?:::\w+)?|convene_core::\w+|ovsp::\w+)/);
  if (own) return own[1];
  if (/serde/.test(n)) return "serde (generic)";
  if (/btree|hashbrown|hash::map/.test(n)) return "maps (generic)";
  if (/slice::sort/.test(n)) return "sorting (generic)";
  if (/drop_in_place|::drop$/.test(n.replace(/::h[0-9a-f]{16}$/, ""))) return "drop glue";
  if (/fmt|flt2dec|zmij/.test(n)) return "formatting";
  if (/wasm_bindgen|js_sys|web_sys|externref|__wbg/.test(n)) return "wasm-bindgen glue";
  if (/dlmalloc|__rdl|alloc::raw_vec/.test(n)) return "allocator";
  return "other std/core";
}

const byArea = new Map();
const byFamily = new Map();
let code = 0;
bodies.forEach((size, i) => {
  const n = names.get(i + importedFuncs) ?? "?";
  code += size;
  byArea.set(area(n), (byArea.get(area(n)) ?? 0) + size);
  const f = family(n);
  byFamily.set(f, (byFamily.get(f) ?? 0) + size);
});
const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, rows);
const pct = (v) => ((100 * v) / code).toFixed(1).padStart(5);
console.log(`code ${code} bytes in ${bodies.length} functions, data ${dataBytes} bytes`);
console.log("largest areas:");
for (const [k, v] of top(byArea)) console.log(`  ${String(v).padStart(8)} ${pct(v)}%  ${k}`);
console.log("largest function families:");
for (const [k, v] of top(byFamily)) console.log(`  ${String(v).padStart(8)} ${pct(v)}%  ${k}`);
