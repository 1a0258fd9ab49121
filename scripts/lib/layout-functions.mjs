// Lays out the package's wasm functions for compression: reorders the function bodies of the
// code section so that similar bodies sit next to each other, where gzip's 32 KiB window finds
// their shared byte runs (monomorphised copies of one generic, shims of one shape). The code
// itself is unchanged: each body keeps its bytes except for the function indices it names.
//
// Every reference to a defined function is renumbered: `call`, `return_call` and `ref.func` in
// bodies and constant expressions, the function and export sections, element segments and the
// start function. Bodies are decoded instruction by instruction (MVP, sign-ext, non-trapping
// float-to-int, bulk memory, reference types, multi-value); an opcode outside that set stops
// the build. A few candidate orders are tried (and the signature groups of one of them put in
// a better order by neighbour swaps); the one with the smallest gzip -9 size is kept, and it
// must pass `WebAssembly.validate`.
//
//   node scripts/lib/layout-functions.mjs pkg/convene_bg.wasm
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const file = process.argv[2];
if (!file) {
  console.error("usage: layout-functions.mjs <module.wasm>");
  process.exit(2);
}
const input = readFileSync(file);

function fail(msg) {
  console.error(`layout-functions: ${msg}`);
  process.exit(1);
}

/** A reader over one buffer. */
class Reader {
  constructor(buf, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }
  byte() {
    if (this.pos >= this.end) fail("read past the end of a section");
    return this.buf[this.pos++];
  }
  u32() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return result;
      if (shift > 35) fail("LEB128 too long");
    }
  }
  /** Skips a signed LEB128 of any width. */
  sleb() {
    let n = 0;
    while (this.byte() & 0x80) {
      if (++n > 10) fail("LEB128 too long");
    }
  }
  skip(n) {
    this.pos += n;
    if (this.pos > this.end) fail("read past the end of a section");
  }
}

function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

function section(id, body) {
  return Buffer.concat([Buffer.from([id]), leb(body.length), body]);
}

// ---- split the module into sections ----------------------------------------------------------
if (input.readUInt32LE(0) !== 0x6d736100) fail("not a wasm module");
const sections = [];
{
  const r = new Reader(input, 8);
  while (r.pos < input.length) {
    const id = r.byte();
    const size = r.u32();
    sections.push({ id, body: input.subarray(r.pos, r.pos + size) });
    r.skip(size);
  }
}
const byId = (id) => sections.find((s) => s.id === id);

let imported = 0;
if (byId(2)) {
  const r = new Reader(byId(2).body);
  for (let n = r.u32(); n > 0; n--) {
    r.skip(r.u32());
    r.skip(r.u32());
    const kind = r.byte();
    if (kind === 0) {
      r.u32();
      imported++;
    } else if (kind === 1) {
      r.byte();
      const flags = r.byte();
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === 2) {
      const flags = r.byte();
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === 3) {
      r.skip(2);
    } else if (kind === 4) {
      r.byte();
      r.u32();
    } else fail(`unknown import kind ${kind}`);
  }
}

const funcTypes = [];
if (byId(3)) {
  const r = new Reader(byId(3).body);
  for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
}
const bodies = [];
if (byId(10)) {
  const r = new Reader(byId(10).body);
  for (let n = r.u32(); n > 0; n--) {
    const size = r.u32();
    bodies.push(byId(10).body.subarray(r.pos, r.pos + size));
    r.skip(size);
  }
}
if (bodies.length !== funcTypes.length) fail("function and code sections disagree");
if (sections.some((s) => s.id === 0 && s.body.toString("latin1", 1, 1 + s.body[0]) === "name")) {
  fail("the module has a name section; run this on the stripped package module");
}

// ---- instruction rewriting -------------------------------------------------------------------
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

/**
 * Copies the instructions of `r` up to `r.end` (a body) or to the `end` closing a constant
 * expression (`constExpr`), with every function index renumbered by `map`; returns the chunks.
 */
function rewrite(r, map, constExpr) {
  const out = [];
  let from = r.pos;
  let depth = 0;
  const func = () => {
    out.push(r.buf.subarray(from, r.pos));
    const idx = r.u32();
    out.push(leb(map(idx)));
    from = r.pos;
  };
  for (;;) {
    if (!constExpr && r.pos === r.end) break;
    const op = r.byte();
    switch (true) {
      case op === 0x02 || op === 0x03 || op === 0x04: {
        depth++;
        const b = r.buf[r.pos];
        if (b === 0x40 || VALTYPES.has(b)) r.byte();
        else r.sleb();
        break;
      }
      case op === 0x0b:
        if (constExpr && depth === 0) {
          out.push(r.buf.subarray(from, r.pos));
          return out;
        }
        depth--;
        break;
      case op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0f || op === 0x1a || op === 0x1b:
        break;
      case op === 0x0c || op === 0x0d:
        r.u32();
        break;
      case op === 0x0e:
        for (let n = r.u32(); n >= 0; n--) r.u32();
        break;
      case op === 0x10 || op === 0x12 || op === 0xd2:
        func();
        break;
      case op === 0x11 || op === 0x13:
        r.u32();
        r.u32();
        break;
      case op === 0x1c:
        r.skip(r.u32());
        break;
      case op >= 0x20 && op <= 0x26:
        r.u32();
        break;
      case op >= 0x28 && op <= 0x3e: {
        const align = r.u32();
        if (align & 0x40) r.u32();
        r.u32();
        break;
      }
      case op === 0x3f || op === 0x40:
        r.u32();
        break;
      case op === 0x41 || op === 0x42:
        r.sleb();
        break;
      case op === 0x43:
        r.skip(4);
        break;
      case op === 0x44:
        r.skip(8);
        break;
      case op >= 0x45 && op <= 0xc4:
        break;
      case op === 0xd0:
        r.byte();
        break;
      case op === 0xd1:
        break;
      case op === 0xfc: {
        const sub = r.u32();
        const imms = [0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1][sub];
        if (imms === undefined) fail(`unknown opcode 0xfc ${sub}`);
        for (let i = 0; i < imms; i++) r.u32();
        break;
      }
      default:
        fail(`unknown opcode 0x${op.toString(16)} at ${r.pos - 1}`);
    }
  }
  if (depth !== -1) fail("unbalanced blocks in a function body");
  out.push(r.buf.subarray(from, r.pos));
  return out;
}

/** A function body with its function indices renumbered. */
function rewriteBody(body, map) {
  const r = new Reader(body);
  for (let n = r.u32(); n > 0; n--) {
    r.u32();
    r.byte();
  }
  const head = body.subarray(0, r.pos);
  return Buffer.concat([head, ...rewrite(r, map, false)]);
}

function constExpr(r, map) {
  return Buffer.concat(rewrite(r, map, true));
}

// ---- the module in a given order -------------------------------------------------------------
function build(order) {
  const rank = new Array(order.length);
  order.forEach((f, i) => (rank[f] = i));
  const map = (idx) => (idx < imported ? idx : imported + rank[idx - imported]);
  const parts = [input.subarray(0, 8)];
  for (const s of sections) {
    let body = s.body;
    if (s.id === 3) {
      body = Buffer.concat([leb(order.length), ...order.map((f) => leb(funcTypes[f]))]);
    } else if (s.id === 10) {
      const chunks = [leb(order.length)];
      for (const f of order) {
        const b = rewriteBody(bodies[f], map);
        chunks.push(leb(b.length), b);
      }
      body = Buffer.concat(chunks);
    } else if (s.id === 7) {
      const r = new Reader(s.body);
      const chunks = [];
      let from = 0;
      for (let n = r.u32(); n > 0; n--) {
        r.skip(r.u32());
        const kind = r.byte();
        if (kind === 0) {
          chunks.push(s.body.subarray(from, r.pos));
          chunks.push(leb(map(r.u32())));
          from = r.pos;
        } else r.u32();
      }
      chunks.push(s.body.subarray(from));
      body = Buffer.concat(chunks);
    } else if (s.id === 8) {
      body = leb(map(new Reader(s.body).u32()));
    } else if (s.id === 6) {
      const r = new Reader(s.body);
      let n = r.u32();
      const chunks = [leb(n)];
      for (; n > 0; n--) {
        const start = r.pos;
        r.byte();
        r.byte();
        chunks.push(s.body.subarray(start, r.pos), constExpr(r, map));
      }
      body = Buffer.concat(chunks);
    } else if (s.id === 9) {
      const r = new Reader(s.body);
      let n = r.u32();
      const chunks = [leb(n)];
      for (; n > 0; n--) {
        const flags = r.u32();
        chunks.push(leb(flags));
        if (flags > 7) fail(`unknown element segment kind ${flags}`);
        const start = () => r.pos;
        if (flags === 2 || flags === 6) chunks.push(leb(r.u32()));
        if (!(flags & 1)) chunks.push(constExpr(r, map));
        if (flags & 3) {
          const s0 = start();
          r.byte();
          chunks.push(s.body.subarray(s0, r.pos));
        }
        let count = r.u32();
        chunks.push(leb(count));
        for (; count > 0; count--) {
          chunks.push(flags & 4 ? constExpr(r, map) : leb(map(r.u32())));
        }
      }
      body = Buffer.concat(chunks);
    }
    parts.push(section(s.id, body));
  }
  return Buffer.concat(parts);
}

// ---- candidate orders ------------------------------------------------------------------------
const ids = [...bodies.keys()];
/** A body without its local declarations. */
const code = bodies.map((b) => {
  const r = new Reader(b);
  for (let n = r.u32(); n > 0; n--) {
    r.u32();
    r.byte();
  }
  return b.subarray(r.pos);
});
const reversed = bodies.map((b) => Buffer.from(b).reverse());

const candidates = {
  original: ids,
  "by body": [...ids].sort((a, b) => Buffer.compare(bodies[a], bodies[b]) || a - b),
  "by code": [...ids].sort((a, b) => Buffer.compare(code[a], code[b]) || a - b),
  "by ending": [...ids].sort((a, b) => Buffer.compare(reversed[a], reversed[b]) || a - b),
  // Bodies of one signature (the same parameter handling in their prologues) together.
  "by type": [...ids].sort(
    (a, b) => funcTypes[a] - funcTypes[b] || Buffer.compare(bodies[a], bodies[b]) || a - b,
  ),
};

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const identity = build(ids);
if (!identity.equals(input)) fail("rebuilding the module in its own order changed it");
let best = { name: "original", buf: input, size: gz(input) };
const before = best.size;
for (const [name, order] of Object.entries(candidates)) {
  if (name === "original") continue;
  const buf = build(order);
  const size = gz(buf);
  if (size < best.size) best = { name, buf, size };
}
// The order of the signature groups matters too (each group's last bodies share the window
// with the next group's first ones): starting from the "by type" order, swap neighbouring
// groups while that shrinks the module (a few passes; about a second each).
{
  let groups = [];
  for (const f of candidates["by type"]) {
    const last = groups[groups.length - 1];
    if (last && funcTypes[last[0]] === funcTypes[f]) last.push(f);
    else groups.push([f]);
  }
  let size = gz(build(groups.flat()));
  for (let pass = 0, better = true; better && pass < 3; pass++) {
    better = false;
    for (let i = 0; i + 1 < groups.length; i++) {
      const trial = groups.slice();
      [trial[i], trial[i + 1]] = [trial[i + 1], trial[i]];
      const s = gz(build(trial.flat()));
      if (s < size) [groups, size, better] = [trial, s, true];
    }
  }
  if (size < best.size) best = { name: "by type, groups swapped", buf: build(groups.flat()), size };
}
if (!WebAssembly.validate(best.buf)) fail("the reordered module does not validate");
writeFileSync(file, best.buf);
console.log(
  `layout-functions: ${bodies.length} functions ${best.name}: gzip -9 ${before} -> ${best.size} bytes`,
);
