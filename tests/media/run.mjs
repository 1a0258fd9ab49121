// Browser media tests: real Chromium pages (fake camera and microphone) join one room of
// `convene-server --dev` through OVSP with plain browser WebRTC (tests/media/ovsp-client.js).
//
//   node tests/media/run.mjs            functional checks (the test tier)
//   node tests/media/run.mjs --measure  join-to-first-frame and server CPU/memory figures
//
// Prints `TIER-COUNT <passed> <failed>` and exits non-zero on any failure.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, ROOT } from '../../scripts/lib/chromium.mjs';
import { serve } from '../../scripts/lib/static-server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const results = [];

function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  return !!ok;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function serverBinary() {
  if (process.env.CONVENE_SERVER) return process.env.CONVENE_SERVER;
  const target = process.env.CONVENE_TARGET_DIR || process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
  const found = ['release', 'debug']
    .map((p) => join(target, p, 'convene-server'))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!found.length) throw new Error(`convene-server not found under ${target}`);
  return found[0];
}

export async function startServer() {
  const port = await freePort();
  const child = spawn(serverBinary(), ['--dev', '--bind', `127.0.0.1:${port}`], {
    cwd: ROOT,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  const keep = (c) => {
    output.push(c.toString());
    if (output.length > 300) output.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) throw new Error(`server exited: ${output.join('')}`);
    await sleep(100);
  }
  return {
    base,
    ws: `ws://127.0.0.1:${port}/ovsp`,
    pid: child.pid,
    output,
    async token(room, identity) {
      const r = await fetch(`${base}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room, identity }),
      });
      if (!r.ok) throw new Error(`dev token: ${r.status} ${await r.text()}`);
      return (await r.json()).token;
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}

/** One participant: its own browser context (own fake devices) with the test page. */
async function participant(browser, pageUrl, server, room, identity, opts = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.ready === true);
  const token = await server.token(room, identity);
  const started = Date.now();
  const self = await page.evaluate(
    async ([ws, tok, o]) => {
      window.room = new window.OvspRoom(ws, tok);
      await window.room.join(o);
      return window.room.self;
    },
    [server.ws, token, opts],
  );
  return {
    identity,
    page,
    context,
    errors,
    self,
    started,
    inbound: () => page.evaluate(() => window.room.inbound()),
    request: (method, params) => page.evaluate(([m, p]) => window.room.request(m, p), [method, params]),
    log: () => page.evaluate(() => window.room.log),
    close: () => context.close(),
  };
}

/** The inbound entries of `p` coming from member `memberId`, by kind. */
async function fromMember(p, memberId) {
  const all = await p.inbound();
  const out = {};
  for (const [tid, s] of Object.entries(all)) if (s.member_id === memberId) out[s.kind] = { ...s, track_id: tid };
  return out;
}

/** Polls until `cond()` resolves truthy or `ms` passes; returns the last value. */
async function until(ms, cond, every = 100) {
  const end = Date.now() + ms;
  let v;
  while (Date.now() < end) {
    v = await cond();
    if (v) return v;
    await sleep(every);
  }
  return v;
}

async function functional(browser, pageUrl, server) {
  const room = `media-${Date.now()}`;
  const a = await participant(browser, pageUrl, server, room, 'alice');
  const b = await participant(browser, pageUrl, server, room, 'bob');
  const aid = a.self.id;
  const bid = b.self.id;

  // Each page receives the other's audio and video: bytes grow, frames decode.
  const flowing = async (p, other) => {
    const m = await fromMember(p, other);
    return m.audio && m.video && m.audio.bytes > 0 && m.video.bytes > 0 && m.video.frames > 0 ? m : null;
  };
  const aGot = await until(20000, () => flowing(a, bid));
  const bGot = await until(20000, () => flowing(b, aid));
  check('alice receives bob audio+video (framesDecoded > 0)', aGot, JSON.stringify(aGot));
  check('bob receives alice audio+video (framesDecoded > 0)', bGot, JSON.stringify(bGot));
  if (!aGot || !bGot) {
    console.log('alice log', await a.log(), a.errors);
    console.log('bob log', await b.log(), b.errors);
    return;
  }
  const before = await fromMember(b, aid);
  await sleep(1500);
  const after = await fromMember(b, aid);
  check(
    'inbound audio and video bytes keep growing',
    after.audio.bytes > before.audio.bytes && after.video.bytes > before.video.bytes && after.video.frames > before.video.frames,
    `audio ${before.audio.bytes}→${after.audio.bytes}, video ${before.video.bytes}→${after.video.bytes}, frames ${before.video.frames}→${after.video.frames}`,
  );

  // A moderator (bob) blocks alice's microphone: it stops at bob within 1 s.
  const t0 = Date.now();
  await b.request('member.audio_mute', { member_id: aid });
  let lastBytes = (await fromMember(b, aid)).audio?.bytes ?? 0;
  let lastGrowth = t0;
  while (Date.now() - t0 < 2500) {
    await sleep(50);
    const s = await fromMember(b, aid);
    const bytes = s.audio ? s.audio.bytes : lastBytes;
    if (bytes > lastBytes) lastGrowth = Date.now();
    lastBytes = bytes;
  }
  const stopMs = lastGrowth - t0;
  check('a moderator block stops the audio at the other page within 1 s', stopMs <= 1000, `last audio byte ${stopMs} ms after the block`);
  const vid = await fromMember(b, aid);
  await sleep(700);
  const vid2 = await fromMember(b, aid);
  check('the blocked member keeps sending video', vid2.video && vid.video && vid2.video.bytes > vid.video.bytes);

  await b.request('member.audio_unmute', { member_id: aid });
  const resumed = await until(3000, async () => {
    const s = await fromMember(b, aid);
    return s.audio && s.audio.bytes > lastBytes ? s : null;
  });
  check('clearing the block lets the audio through again', resumed);

  // Alice leaves: her tracks disappear at bob within 1 s.
  const t1 = Date.now();
  await a.page.evaluate(() => window.room.leave());
  const gone = await until(3000, async () => {
    const m = await fromMember(b, aid);
    return Object.keys(m).length === 0 ? Date.now() : 0;
  }, 25);
  check('a leave removes the tracks at the other page within 1 s', gone && gone - t1 <= 1000, gone ? `${gone - t1} ms` : 'never');
  const remain = await b.page.evaluate(() => window.room.events.filter((e) => e.type === 'track.unpublished').length);
  check('the other page got track.unpublished for both tracks', remain >= 2, `${remain} events`);
  check('no page errors', a.errors.length + b.errors.length === 0, [...a.errors, ...b.errors].join('; '));
  await a.close();
  await b.close();
}

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { ticks, rssKb };
}

async function cpuOver(pid, ms) {
  const a = procStat(pid);
  const t = Date.now();
  await sleep(ms);
  const b = procStat(pid);
  const secs = (Date.now() - t) / 1000;
  return { cpuPercent: +(((b.ticks - a.ticks) / 100 / secs) * 100).toFixed(1), rssMb: +(b.rssKb / 1024).toFixed(1) };
}

async function measure(browser, pageUrl, server) {
  const figures = {};
  // Join to first decoded remote frame, median of 10.
  {
    const room = `ff-${Date.now()}`;
    const pub = await participant(browser, pageUrl, server, room, 'publisher');
    const times = [];
    for (let i = 0; i < 10; i++) {
      const viewerStart = Date.now();
      const v = await participant(browser, pageUrl, server, room, `viewer${i}`, { audio: false, video: false });
      const got = await until(15000, async () => {
        const m = await fromMember(v, pub.self.id);
        return m.video && m.video.frames > 0 ? Date.now() : 0;
      }, 20);
      if (got) times.push(got - viewerStart);
      await v.close();
    }
    times.sort((x, y) => x - y);
    figures.join_to_first_frame_ms = { runs: times, median: times.length ? times[Math.floor((times.length - 1) / 2)] : null };
    console.log('join → first decoded frame (ms):', JSON.stringify(figures.join_to_first_frame_ms));
    await pub.close();
  }
  // Server CPU and memory: one publisher and N subscribers.
  for (const n of [2, 4, 8]) {
    const room = `load${n}-${Date.now()}`;
    const pub = await participant(browser, pageUrl, server, room, 'publisher');
    const subs = [];
    for (let i = 0; i < n; i++) subs.push(await participant(browser, pageUrl, server, room, `sub${i}`, { audio: false, video: false }));
    const ready = await until(30000, async () => {
      for (const s of subs) {
        const m = await fromMember(s, pub.self.id);
        if (!(m.video && m.video.frames > 0)) return false;
      }
      return true;
    }, 250);
    const usage = await cpuOver(server.pid, 10000);
    figures[`pub1_sub${n}`] = { ...usage, all_receiving: !!ready };
    console.log(`1 publisher + ${n} subscribers:`, JSON.stringify(figures[`pub1_sub${n}`]));
    for (const s of subs) await s.close();
    await pub.close();
    await sleep(1000);
  }
  {
    const room = `all4-${Date.now()}`;
    const pages = [];
    for (let i = 0; i < 4; i++) pages.push(await participant(browser, pageUrl, server, room, `p${i}`));
    const ready = await until(30000, async () => {
      for (const p of pages) {
        const n = Object.values(await p.inbound()).filter((s) => s.kind === 'video' && s.frames > 0).length;
        if (n < 3) return false;
      }
      return true;
    }, 250);
    const usage = await cpuOver(server.pid, 10000);
    figures.all4_publishing = { ...usage, all_receiving: !!ready };
    console.log('4 pages all publishing:', JSON.stringify(figures.all4_publishing));
    for (const p of pages) await p.close();
  }
  const idle = procStat(server.pid);
  figures.server_rss_mb_after = +(idle.rssKb / 1024).toFixed(1);
  const out = join(ROOT, 'test-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'media-measure.json'), JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, null, 2));
  check('measurements completed', figures.join_to_first_frame_ms.median !== null);
}

/** A server started elsewhere (OVSP_LAB_WS): any token is accepted, the identity is the token. */
function labServer(ws) {
  return { ws, pid: null, output: [], token: async (_room, identity) => identity, stop() {} };
}

async function main() {
  const server = process.env.OVSP_LAB_WS ? labServer(process.env.OVSP_LAB_WS) : await startServer();
  const site = await serve({ mounts: { '/': HERE } });
  const pageUrl = `${site.url.replace(/\/$/, '')}/room.html`;
  const browser = await launchChromium();
  try {
    if (process.argv.includes('--measure')) await measure(browser, pageUrl, server);
    else await functional(browser, pageUrl, server);
  } catch (e) {
    check('run without exceptions', false, e && e.stack ? e.stack : String(e));
    console.log(server.output.join('').slice(-4000));
  } finally {
    await browser.close();
    await site.close();
    server.stop();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`TIER-COUNT ${results.length - failed} ${failed}`);
  process.exit(failed ? 1 : 0);
}

main();
