// Lays out the package's wasm functions for compression: reorders the function bodies of the
// code section so that similar bodies sit next to each other, where gzip's 32 KiB window finds
// their shared byte runs (monomorphised copies of one generic, shims of one shape). The code
// itself is unchanged: each body keeps its bytes except for the function indices it names.
//
// Every reference to a defined function is renumbered: `call`, `return_call` and `ref.func` in
// bodies and constant expressions, the function and export sections, element segments and the
// start function. Bodies are decoded instruction by instruction (MVP, sign-ext, non-trapping
// float-to-int, bulk memory, reference types, multi-value); an opcode outside that set stops
// the build.
//
// The search: the functions are first put in a canonical order (by content, not by their input
// indices), so the result depends only on the module and running the script on its own output
// changes nothing. Then a few sorted orders are candidates, and the signature groups of the
// "by type" order are put in a better order by neighbour swaps measured with zlib (two runs, at
// zlib's default memory level and at memLevel 9). The measure that counts is GNU `gzip -9`,
// which differs from zlib by a few hundred bytes that vary from order to order, so GNU gzip
// picks the winner among the candidates and the orders the zlib runs passed through near their
// end. Each finalist also has a twin whose groups are ordered inside by a greedy chain of shared
// 4-byte runs instead of by bytes; the best plain finalist and the best chained one are each
// polished by group moves measured by GNU gzip, and the smaller wins (the plain path alone gives
// the earlier layout, so the chain can only help); last, single bodies are moved within their
// groups where GNU gzip measures that smaller. The result must pass `WebAssembly.validate`.
// Deterministic; about six minutes (CONVENE_LAYOUT=quick: seconds, without the GNU gzip moves).
//
//   node scripts/lib/layout-functions.mjs pkg/convene_bg.wasm
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { spawnSync } from "node:child_process";

const file = process.argv[2];
if (!file) {
  console.error("usage: layout-functions.mjs <module.wasm>");
  process.exit(2);
}

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
// The module being laid out: its sections, the number of imported functions, the type index and
// the body of each defined function. `load` fills them (once for the input, once more after the
// input is put in its canonical order).
let input;
let sections;
let imported;
let funcTypes;
let bodies;
const byId = (id) => sections.find((s) => s.id === id);

function load(buf) {
  input = buf;
  if (input.readUInt32LE(0) !== 0x6d736100) fail("not a wasm module");
  sections = [];
  {
    const r = new Reader(input, 8);
    while (r.pos < input.length) {
      const id = r.byte();
      const size = r.u32();
      sections.push({ id, body: input.subarray(r.pos, r.pos + size) });
      r.skip(size);
    }
  }
  imported = 0;
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
  funcTypes = [];
  if (byId(3)) {
    const r = new Reader(byId(3).body);
    for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
  }
  bodies = [];
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
/**
 * The module with its defined functions in `order` (a permutation of their indices); with
 * `refs`, a map to record the references outside the code section in instead.
 */
function build(order, refs) {
  const rank = new Array(order.length);
  order.forEach((f, i) => (rank[f] = i));
  const map = refs ?? ((idx) => (idx < imported ? idx : imported + rank[idx - imported]));
  const parts = [input.subarray(0, 8)];
  for (const s of sections) {
    let body = s.body;
    if (s.id === 3) {
      body = Buffer.concat([leb(order.length), ...order.map((f) => leb(funcTypes[f]))]);
    } else if (s.id === 10) {
      const chunks = [leb(order.length)];
      if (!refs) {
        for (const f of order) {
          const t = templates[f];
          const b = [t.parts[0]];
          for (let i = 0; i < t.calls.length; i++) {
            b.push(lebs[map(t.calls[i])], t.parts[i + 1]);
          }
          const body = Buffer.concat(b);
          chunks.push(leb(body.length), body);
        }
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

// ---- fast rebuilding --------------------------------------------------------------------------
// Each body is split once into the byte runs between its function indices, so that building an
// order only has to join them with the renumbered indices.
let templates;
let lebs;

function prepare() {
  templates = bodies.map((body) => {
    const calls = [];
    const r = new Reader(body);
    for (let n = r.u32(); n > 0; n--) {
      r.u32();
      r.byte();
    }
    const head = body.subarray(0, r.pos);
    const out = rewrite(r, (idx) => (calls.push(idx), 0), false);
    const parts = [Buffer.concat([head, out[0]])];
    for (let i = 2; i < out.length; i += 2) parts.push(out[i]);
    return { calls, parts };
  });
  lebs = [];
  for (let i = 0; i < imported + bodies.length; i++) lebs.push(leb(i));
}

// ---- canonical order ---------------------------------------------------------------------------
// The input may already have been laid out, and a body's bytes name its callees by their current
// indices: so that the result depends on the module's content only, the functions are first put
// in an order that ignores the input's numbering. Functions are told apart by their type, their
// bytes with the callees left out and the exports and table slots naming them, then (a few rounds)
// by the classes of their callees too; only functions that nothing tells apart keep their order.
const compareArrays = (a, b) => {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};
/** Dense ranks of `keys` (equal keys share a rank). */
function classes(keys, compare) {
  const sorted = [...keys.keys()].sort((a, b) => compare(keys[a], keys[b]) || a - b);
  const cls = new Array(keys.length);
  let n = -1;
  sorted.forEach((f, i) => {
    if (i === 0 || compare(keys[sorted[i - 1]], keys[f]) !== 0) n++;
    cls[f] = n;
  });
  return { cls, count: n + 1 };
}

function canonicalOrder() {
  const ids = [...bodies.keys()];
  // Where each function is named outside the code section (exports, table slots, start).
  const outside = ids.map(() => []);
  let seen = 0;
  build(ids, (idx) => {
    if (idx >= imported) outside[idx - imported].push(seen);
    seen++;
    return idx;
  });
  const own = ids.map((f) =>
    Buffer.concat([
      leb(funcTypes[f]),
      leb(outside[f].length),
      ...outside[f].map(leb),
      ...templates[f].parts.flatMap((p, i) => {
        const c = templates[f].calls[i];
        return c === undefined ? [p] : [p, c < imported ? leb(c + 1) : leb(0)];
      }),
    ]),
  );
  let { cls, count } = classes(own, Buffer.compare);
  for (let round = 0; round < 20; round++) {
    const keys = ids.map((f) => [
      cls[f],
      ...templates[f].calls.map((c) => (c < imported ? -1 - c : cls[c - imported])),
    ]);
    const next = classes(keys, compareArrays);
    if (next.count === count) break;
    ({ cls, count } = next);
  }
  return ids.sort((a, b) => cls[a] - cls[b] || a - b);
}

// ---- load, canonicalise ------------------------------------------------------------------------
const given = readFileSync(file);
const rebuilds = () => build([...bodies.keys()]).equals(input);
load(given);
prepare();
if (!rebuilds()) fail("rebuilding the module in its own order changed it");
load(build(canonicalOrder()));
prepare();
if (!rebuilds()) fail("rebuilding the canonical module changed it");

// ---- search ------------------------------------------------------------------------------------
// The real measure is GNU `gzip -9`, which splits its output into blocks differently from zlib:
// the two sizes differ by a few hundred bytes that vary from order to order, so a search led by
// zlib alone settles at sizes that GNU gzip sees as up to 500 bytes apart. GNU gzip itself is
// too rugged to lead the whole search (its greedy descent stops early), so zlib leads and GNU
// gzip judges: every order the zlib searches pass through near their end is a finalist, the
// finalist with the smallest GNU gzip size is kept, and a last pass of group moves measured by
// GNU gzip polishes it. Without GNU gzip (not on the PATH), zlib alone decides.
const hasGnu = spawnSync("gzip", ["--version"]).status === 0;
// CONVENE_LAYOUT=quick (the demo's build) leaves out the GNU gzip moves: a few hundred bytes
// larger, in seconds instead of minutes.
const QUICK = process.env.CONVENE_LAYOUT === "quick";
/** The GNU `gzip -9` size of `buf` (without a file name in the header). */
function gnu(buf) {
  const r = spawnSync("gzip", ["-9", "-n", "-c"], { input: buf, maxBuffer: 1 << 28 });
  if (r.status !== 0) fail("gzip -9 failed");
  return r.stdout.length;
}
const zlib = (buf, memLevel = 8) => gzipSync(buf, { level: 9, memLevel }).length;

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
const within = {
  body: (a, b) => Buffer.compare(bodies[a], bodies[b]) || a - b,
  code: (a, b) => Buffer.compare(code[a], code[b]) || a - b,
  ending: (a, b) => Buffer.compare(reversed[a], reversed[b]) || a - b,
};
const candidates = {
  canonical: ids,
  "by body": [...ids].sort(within.body),
  "by code": [...ids].sort(within.code),
  "by ending": [...ids].sort(within.ending),
};
// Bodies of one signature (the same parameter handling in their prologues) together.
for (const [name, compare] of Object.entries(within)) {
  candidates[`by type, ${name}`] = [...ids].sort(
    (a, b) => funcTypes[a] - funcTypes[b] || compare(a, b),
  );
}
const finalists = Object.entries(candidates).map(([name, order]) => ({
  name,
  order,
  size: zlib(build(order)),
}));

/** `order` cut into its runs of one signature. */
function groupsOf(order) {
  const groups = [];
  for (const f of order) {
    const last = groups[groups.length - 1];
    if (last && funcTypes[last[0]] === funcTypes[f]) last.push(f);
    else groups.push([f]);
  }
  return groups;
}

// The order of the signature groups matters too (each group's last bodies share the window with
// the next group's first ones): starting from the "by type, body" order, swap neighbouring groups
// while that shrinks the module by zlib's measure (a few passes). Run with zlib's default memory
// level and with memLevel 9 (GNU gzip's block size), which settle in different places; each
// order passed through within ZLIB_NEAR bytes of the run's result is a finalist.
const ZLIB_PASSES = 3;
const ZLIB_NEAR = 150;
for (const memLevel of [8, 9]) {
  const name = `by type, body, groups swapped (zlib memLevel ${memLevel})`;
  let groups = groupsOf(candidates["by type, body"]);
  let size = zlib(build(groups.flat()), memLevel);
  const trail = [{ name, order: groups.flat(), size }];
  for (let pass = 0, better = true; better && pass < ZLIB_PASSES; pass++) {
    better = false;
    for (let i = 0; i + 1 < groups.length; i++) {
      const trial = groups.slice();
      [trial[i], trial[i + 1]] = [trial[i + 1], trial[i]];
      const s = zlib(build(trial.flat()), memLevel);
      if (s < size) {
        [groups, size, better] = [trial, s, true];
        trail.push({ name, order: groups.flat(), size });
      }
    }
  }
  finalists.push(...trail.filter((t) => t.size <= size + ZLIB_NEAR));
}

// The order within each signature group matters too: sorting by bytes puts bodies with a common
// start together, but bodies that share runs further in can sit apart. A second within-group
// order chains them greedily: from a group's first body (by bytes), the next is the body left
// that shares the most 4-byte runs with it (callee indices masked, so that renumbering does not
// change the measure; ties go to the earlier body by bytes). Every finalist gets a twin with the
// same group order and this within-group order.
const masked = ids.map((f) =>
  Buffer.concat(templates[f].parts.flatMap((p, i) => (i ? [Buffer.from([0]), p] : [p]))),
);
const grams = masked.map((m) => {
  const set = new Set();
  for (let i = 0; i + 4 <= m.length; i++) set.add(m.readUInt32LE(i));
  return set;
});
function similarity(a, b) {
  const [small, large] = grams[a].size <= grams[b].size ? [grams[a], grams[b]] : [grams[b], grams[a]];
  let shared = 0;
  for (const g of small) if (large.has(g)) shared++;
  return shared / Math.sqrt((grams[a].size + 1) * (grams[b].size + 1));
}
const chainRank = new Array(ids.length);
{
  let rank = 0;
  for (const group of groupsOf(candidates["by type, body"])) {
    const left = group.slice(1);
    let current = group[0];
    chainRank[current] = rank++;
    while (left.length) {
      let pick = 0;
      let most = -1;
      left.forEach((f, i) => {
        const s = similarity(current, f);
        if (s > most) [pick, most] = [i, s];
      });
      current = left.splice(pick, 1)[0];
      chainRank[current] = rank++;
    }
  }
}
for (const f of finalists.slice()) {
  finalists.push({
    name: `${f.name}, chained`,
    order: groupsOf(f.order).flatMap((g) => [...g].sort((a, b) => chainRank[a] - chainRank[b])),
    chained: true,
  });
}

let best;
if (hasGnu) {
  for (const f of finalists) f.size = gnu(build(f.order));
  const pick = (list) => list.reduce((a, b) => (b.size < a.size ? b : a));
  // Polish the best finalist of each kind (a group move changes GNU gzip's size by amounts that
  // depend on the start, so either may end lower), three passes each, moving a group up to eight
  // places on. (Measured on the package: two passes of four places left 100 to 230 bytes that
  // these find; four passes of sixteen places find about 10 more, in twice the time.)
  const passes = QUICK ? 0 : 3;
  const starts = [
    { start: pick(finalists.filter((f) => !f.chained)), passes },
    { start: pick(finalists.filter((f) => f.chained)), passes },
  ];
  const POLISH_REACH = 8;
  const results = starts.map(({ start, passes }) => {
    let groups = groupsOf(start.order);
    let size = start.size;
    for (let pass = 0; pass < passes; pass++) {
      for (let i = 0; i < groups.length; i++) {
        for (let j = i + 1; j <= i + POLISH_REACH && j < groups.length; j++) {
          const trial = groups.slice();
          trial.splice(j, 0, ...trial.splice(i, 1));
          const s = gnu(build(trial.flat()));
          if (s < size) [groups, size] = [trial, s];
        }
      }
    }
    return size < start.size ? { name: `${start.name}, polished`, order: groups.flat(), size } : start;
  });
  best = pick(results);
  // Then the bodies inside each group: each is moved up to three places on where GNU gzip
  // measures that smaller (one pass; measured on the package: about -400 bytes with two places,
  // -90 more with three, about a minute more).
  let groups = groupsOf(best.order);
  let size = best.size;
  for (let gi = 0; gi < (QUICK ? 0 : groups.length); gi++) {
    for (let i = 0; i < groups[gi].length; i++) {
      for (let j = i + 1; j <= i + 3 && j < groups[gi].length; j++) {
        const group = groups[gi].slice();
        group.splice(j, 0, ...group.splice(i, 1));
        const trial = groups.slice();
        trial[gi] = group;
        const s = gnu(build(trial.flat()));
        if (s < size) [groups, size] = [trial, s];
      }
    }
  }
  if (size < best.size) best = { name: `${best.name}, bodies moved`, order: groups.flat(), size };
} else {
  for (const f of finalists) f.size ??= zlib(build(f.order));
  best = finalists.reduce((a, b) => (b.size < a.size ? b : a));
}
const buf = build(best.order);
if (!WebAssembly.validate(buf)) fail("the reordered module does not validate");
writeFileSync(file, buf);
const measure = hasGnu ? "GNU gzip -9" : "zlib gzip -9";
const before = hasGnu ? gnu(given) : zlib(given);
console.log(
  `layout-functions: ${bodies.length} functions ${best.name}: ` +
    `${measure} ${before} -> ${best.size} bytes`,
);
