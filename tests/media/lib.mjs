// Shared machinery of the media tests: the server under test, participants (one browser context
// each, running tests/media/ovsp-client.js), polling helpers and the result list.

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/chromium.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const results = [];

export function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  return !!ok;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function serverBinary() {
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
export async function participant(browser, pageUrl, server, room, identity, opts = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.ready === true);
  const token = await server.token(room, identity);
  // MEDIA_VIDEO=640x480@30 publishes a larger camera picture (the default is 320x240@15).
  const m = /^(\d+)x(\d+)@(\d+)$/.exec(process.env.MEDIA_VIDEO || '');
  if (m && opts.videoConstraints === undefined) {
    opts = { ...opts, videoConstraints: { width: +m[1], height: +m[2], frameRate: +m[3] } };
  }
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
export async function fromMember(p, memberId) {
  const all = await p.inbound();
  const out = {};
  for (const [tid, s] of Object.entries(all)) if (s.member_id === memberId) out[s.kind] = { ...s, track_id: tid };
  return out;
}

/** Polls until `cond()` resolves truthy or `ms` passes; returns the last value. */
export async function until(ms, cond, every = 100) {
  const end = Date.now() + ms;
  let v;
  while (Date.now() < end) {
    v = await cond();
    if (v) return v;
    await sleep(every);
  }
  return v;
}

/** The server under test: `convene-server --dev` on a free port. */
export function server() {
  return startServer();
}

/** Prints the TIER-COUNT line and exits with the tier status. */
export function finish() {
  const failed = results.filter((r) => !r.ok).length;
  console.log(`TIER-COUNT ${results.length - failed} ${failed}`);
  process.exit(failed ? 1 : 0);
}
