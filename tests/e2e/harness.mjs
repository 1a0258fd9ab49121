// Shared machinery of the end-to-end journeys: the dev server, the browser,
// participants (one browser context each) with error capture, and helpers
// that read media statistics from the pages.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUTPUT = join(ROOT, 'tests', 'e2e', 'output');

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  '--use-fake-ui-for-media-stream',
  // Three fake cameras, so that a camera switch has somewhere to go (see journey 8).
  '--use-fake-device-for-media-stream=device-count=3',
  '--allow-loopback-in-peer-connection',
  '--auto-select-desktop-capture-source=Entire screen',
];

/** Sleep for `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it before the server binds). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** The convene-server binary: $CONVENE_SERVER, else the newest build in the target dir. */
export function serverBinary() {
  if (process.env.CONVENE_SERVER) return process.env.CONVENE_SERVER;
  const target = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
  const candidates = ['release', 'debug']
    .map((p) => join(target, p, 'convene-server'))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!candidates.length) {
    throw new Error(`convene-server not found under ${target}; build it with: cargo build -p convene-server --release`);
  }
  return candidates[0];
}

/** Start `convene-server --dev` on a free port; resolves once /healthz answers. */
export async function startServer({ log = false } = {}) {
  const port = await freePort();
  const bin = serverBinary();
  const args = ['--dev', '--bind', `127.0.0.1:${port}`];
  if (process.env.CONVENE_SERVER_ARGS) args.push(...process.env.CONVENE_SERVER_ARGS.split(/\s+/).filter(Boolean));
  const child = spawn(bin, args, {
    cwd: ROOT,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  const keep = (chunk) => {
    const text = chunk.toString();
    output.push(text);
    if (output.length > 400) output.splice(0, 100);
    if (log) process.stderr.write(`[server] ${text}`);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (exited) throw new Error(`convene-server exited early (${JSON.stringify(exited)}):\n${output.join('')}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`convene-server did not answer /healthz within 20 s:\n${output.join('')}`);
    }
    await sleep(100);
  }
  return {
    base,
    port,
    output,
    alive: () => exited === null,
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(t);
    },
  };
}

/** Launch headless Chromium with fake media. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Page-side hooks installed before any page script: they record every
 * RTCPeerConnection, WebSocket and captured media track so that tests can read
 * statistics, cut the signaling socket, and check that leave releases everything.
 */
function pageHooks() {
  const pcs = [];
  const sockets = [];
  const tracks = [];
  const OrigPC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends OrigPC {
    constructor(...args) {
      super(...args);
      pcs.push(this);
    }
  };
  const OrigWS = window.WebSocket;
  window.WebSocket = class extends OrigWS {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  };
  const mediaElements = [];
  const origCreate = Document.prototype.createElement;
  Document.prototype.createElement = function createElement(name, ...rest) {
    const el = origCreate.call(this, name, ...rest);
    if (/^(audio|video)$/i.test(String(name))) mediaElements.push(el);
    return el;
  };
  const OrigAudio = window.Audio;
  window.Audio = function Audio(...args) {
    const el = new OrigAudio(...args);
    mediaElements.push(el);
    return el;
  };
  window.Audio.prototype = OrigAudio.prototype;
  const md = navigator.mediaDevices;
  if (md) {
    for (const fn of ['getUserMedia', 'getDisplayMedia']) {
      const orig = md[fn] && md[fn].bind(md);
      if (!orig) continue;
      md[fn] = async (constraints) => {
        const stream = await orig(constraints);
        for (const t of stream.getTracks()) tracks.push({ source: fn, track: t });
        return stream;
      };
    }
  }
  window.__e2e = {
    mediaElements,
    /** Output device of every audio element playing a remote stream. */
    audioSinks() {
      return mediaElements
        .filter((el) => el instanceof HTMLAudioElement && el.srcObject)
        .map((el) => el.sinkId);
    },
    pcs,
    sockets,
    tracks,
    /** Close every open signaling socket as a network failure would (code 4000: not a normal close). */
    cutSockets() {
      let n = 0;
      for (const ws of sockets) {
        if (ws.readyState === 0 || ws.readyState === 1) {
          ws.close(4000, 'e2e: simulated network cut');
          n += 1;
        }
      }
      return n;
    },
    /** inbound-rtp / outbound-rtp entries of every live PeerConnection. */
    async rtp() {
      const out = [];
      for (const [i, pc] of pcs.entries()) {
        if (pc.connectionState === 'closed') continue;
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === 'inbound-rtp' || s.type === 'outbound-rtp') {
            out.push({
              pc: i,
              type: s.type,
              kind: s.kind,
              ssrc: s.ssrc,
              mid: s.mid,
              bytes: s.type === 'inbound-rtp' ? s.bytesReceived : s.bytesSent,
              packets: s.type === 'inbound-rtp' ? s.packetsReceived : s.packetsSent,
              frames: s.framesDecoded ?? s.framesEncoded ?? 0,
              width: s.frameWidth ?? 0,
            });
          }
        });
      }
      return out;
    },
    /** Remote <video> elements in the demo's video root that show decoded pictures. */
    remoteVideos() {
      const self = window.__demo && window.__demo.memberId;
      return [...document.querySelectorAll('#video-root video')]
        .filter((v) => !self || v.dataset.memberId !== self)
        .filter((v) => v.videoWidth > 0 && v.readyState >= 2).length;
    },
    /** What is still alive of the session's browser objects. */
    leftovers() {
      return {
        pcs: pcs.filter((pc) => pc.connectionState !== 'closed' && pc.signalingState !== 'closed').length,
        sockets: sockets.filter((ws) => ws.readyState === 0 || ws.readyState === 1).length,
        tracks: tracks.filter((t) => t.track.readyState !== 'ended').map((t) => `${t.source}:${t.track.kind}`),
        videos: document.querySelectorAll('#video-root video, #video-root audio').length,
      };
    },
  };
}

let participantSeq = 0;

/**
 * A participant: its own browser context (own fake devices) and page, with
 * every `pageerror` and `console.error` recorded in `errors`.
 */
export async function newParticipant(browser, server, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['camera', 'microphone'], { origin: server.base });
  await context.addInitScript(pageHooks);
  const page = await context.newPage();
  const p = { name, context, page, errors: [], logs: [], id: ++participantSeq };
  page.on('pageerror', (err) => p.errors.push(`pageerror: ${err.stack || err.message}`));
  page.on('console', (msg) => {
    const line = `${msg.type()}: ${msg.text()}`;
    p.logs.push(line);
    if (p.logs.length > 300) p.logs.splice(0, 100);
    if (msg.type() === 'error') p.errors.push(`console.error: ${msg.text()}`);
  });
  page.on('crash', () => p.errors.push('page crashed'));
  await page.goto(`${server.base}/`);
  return p;
}

/** Throw when any participant has recorded a page error or console.error. */
export function assertNoErrors(participants) {
  const found = participants.flatMap((p) => p.errors.map((e) => `[${p.name}] ${e.split('\n').slice(0, 3).join('\n    ')}`));
  if (found.length) {
    const more = found.length > 6 ? `\n  ... and ${found.length - 6} more` : '';
    throw new Error(`browser errors:\n  ${found.slice(0, 6).join('\n  ')}${more}`);
  }
}

/**
 * Poll `fn` (run in the page with `arg`) until it returns a truthy value.
 * Fails early on any page error of the given participants.
 */
export async function waitFor(p, fn, arg, { timeout = 15000, what = 'condition', watch = [p] } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    assertNoErrors(watch);
    try {
      last = await p.page.evaluate(fn, arg);
      if (last) return last;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) {
      throw new Error(`[${p.name}] timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    }
    await sleep(250);
  }
}

/** Fill the join form and wait until the call view shows (or an error banner appears). */
export async function joinRoom(p, room, { role = 'member', moderator = false, expectError = false } = {}) {
  const { page } = p;
  await page.fill('#join-room', room);
  await page.fill('#join-name', p.name);
  await page.check(role === 'audience' ? '#join-role-audience' : '#join-role-member');
  await page.setChecked('#join-moderator', moderator);
  await page.click('#join-button');
  const result = await waitFor(
    p,
    () => {
      const err = document.getElementById('error');
      if (!err.classList.contains('hidden')) return { error: err.dataset.code || 'unknown', text: err.textContent };
      if (!document.getElementById('call-view').classList.contains('hidden') && window.__demo.memberId) {
        return { memberId: window.__demo.memberId };
      }
      return null;
    },
    undefined,
    { timeout: 20000, what: 'the join to finish' },
  );
  if (result.error && !expectError) throw new Error(`[${p.name}] join failed: ${result.text}`);
  if (!result.error) p.memberId = result.memberId;
  return result;
}

/** Read the RTP entries of a page. */
export function rtp(p) {
  return p.page.evaluate(() => window.__e2e.rtp());
}

/**
 * Sample inbound-rtp twice, `ms` apart, and return per kind how many inbound
 * streams grew (bytes) and how many decoded new frames (video).
 */
export async function inboundGrowth(p, ms = 1500) {
  const key = (s) => `${s.pc}:${s.ssrc}`;
  const a = new Map((await rtp(p)).filter((s) => s.type === 'inbound-rtp').map((s) => [key(s), s]));
  await sleep(ms);
  const b = (await rtp(p)).filter((s) => s.type === 'inbound-rtp');
  const out = { audio: 0, video: 0, videoFrames: 0, audioBytes: 0, videoBytes: 0 };
  for (const s of b) {
    const prev = a.get(key(s));
    const dBytes = s.bytes - (prev ? prev.bytes : 0);
    if (prev && dBytes > 0) {
      out[s.kind] += 1;
      out[`${s.kind}Bytes`] += dBytes;
    }
    if (s.kind === 'video' && prev && s.frames > prev.frames) out.videoFrames += 1;
  }
  return out;
}

/**
 * Wait until at least `audio` inbound audio streams and `video` inbound video streams are
 * flowing (`exact`: exactly these numbers; `exactAudio`: exactly `audio` audio streams).
 */
export async function waitForMedia(p, { audio = 0, video = 0, exact = false, exactAudio = false, timeout = 20000, watch = [p] } = {}) {
  const deadline = Date.now() + timeout;
  let g;
  for (;;) {
    assertNoErrors(watch);
    g = await inboundGrowth(p, 1000);
    const ok = exact
      ? g.audio === audio && g.video === video
      : (exactAudio ? g.audio === audio : g.audio >= audio) && g.video >= video && g.videoFrames >= video;
    if (ok) return g;
    if (Date.now() > deadline) {
      throw new Error(`[${p.name}] media: wanted audio ${audio} video ${video}${exact ? ' (exactly)' : ''}, got ${JSON.stringify(g)}`);
    }
  }
}

/** Number of remote <video> elements in the SDK's root element that show decoded pictures. */
export function liveRemoteVideos(p) {
  return p.page.evaluate(() => window.__e2e.remoteVideos());
}

/** The demo's recorded SDK events named `name` (optionally filtered in the page). */
export function events(p, name) {
  return p.page.evaluate((n) => window.__demo.events.filter((e) => e.name === n), name);
}

/** Save a screenshot under tests/e2e/output/. */
export async function screenshot(p, file) {
  mkdirSync(OUTPUT, { recursive: true });
  const path = join(OUTPUT, file);
  await p.page.screenshot({ path });
  return path;
}

/** A room name unique to this run. */
export function roomName(tag) {
  return `e2e-${tag}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
