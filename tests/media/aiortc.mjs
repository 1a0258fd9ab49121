// aiortc (Python WebRTC) as an independent OVSP client against the SFU: a Chromium page and the
// aiortc client (tests/media/aiortc_client.py) join one room; each publishes audio and video and
// receives the other's media through the server.
//
//   PYTHON=.tools/media-venv/bin/python node tests/media/aiortc.mjs
//
// Prints `TIER-COUNT <passed> <failed>` and exits non-zero on any failure.

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { serve } from '../../scripts/lib/static-server.mjs';
import { check, finish, fromMember, participant, server as serverUnderTest, until } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.PYTHON || 'python3';
const SECONDS = 12;

function runPython(ws, token) {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [join(HERE, 'aiortc_client.py'), '--ws', ws, '--token', token, '--seconds', String(SECONDS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 40) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      let summary = null;
      try {
        summary = line ? JSON.parse(line) : null;
      } catch {
        summary = null;
      }
      resolve({ code, summary, stderr: err.slice(-3000) });
    });
  });
}

async function main() {
  const server = await serverUnderTest();
  const site = await serve({ mounts: { '/': HERE } });
  const pageUrl = `${site.url.replace(/\/$/, '')}/room.html`;
  const browser = await launchChromium();
  try {
    const room = `aiortc-${Date.now()}`;
    const page = await participant(browser, pageUrl, server, room, 'chromium');
    const token = await server.token(room, 'aiortc');
    const py = runPython(server.ws, token);
    // While aiortc is in the room, the page must decode its video and receive its audio.
    const fromPy = await until((SECONDS - 2) * 1000, async () => {
      const members = await page.page.evaluate(() => [...window.room.remote.values()].map((r) => r.member_id));
      for (const m of new Set(members)) {
        const s = await fromMember(page, m);
        if (s.video && s.video.frames > 0 && s.audio && s.audio.bytes > 0) return s;
      }
      return null;
    }, 250);
    check('chromium decodes the aiortc video and receives its audio through the SFU', fromPy, JSON.stringify(fromPy));
    const { code, summary, stderr } = await py;
    check('the aiortc client ran to the end', code === 0 && summary, `exit ${code} ${stderr}`);
    if (summary) console.log('aiortc summary', JSON.stringify(summary));
    if (summary) {
      const got = Object.values(summary.received).filter((r) => r.member_id === page.self.id);
      const video = got.find((r) => r.kind === 'video');
      const audio = got.find((r) => r.kind === 'audio');
      check('aiortc decodes the chromium video', video && video.frames > 20, JSON.stringify(summary.received));
      check('aiortc decodes the chromium audio', audio && audio.frames > 50, JSON.stringify(summary.received));
      check('aiortc published through OVSP (track.publish + pub.offer)', Object.keys(summary.published).length === 2);
      check('aiortc saw no protocol errors', summary.errors.length === 0, summary.errors.join('; '));
    }
    check('no page errors', page.errors.length === 0, page.errors.join('; '));
    await page.close();
  } catch (e) {
    check('run without exceptions', false, e && e.stack ? e.stack : String(e));
    console.log(server.output.join('').slice(-4000));
  } finally {
    await browser.close();
    await site.close();
    server.stop();
  }
  finish();
}

main();
