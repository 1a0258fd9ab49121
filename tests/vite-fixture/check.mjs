// Serves the fixture's dist/ and loads it in Chromium: the built app must initialise the wasm
// and report the expected results. Usage: node check.mjs <dist dir>
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { serve } from '../../scripts/lib/static-server.mjs';

const dist = process.argv[2];
const srv = await serve({ mounts: { '/': dist } });
const browser = await launchChromium();
let ok = false;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${srv.url}/index.html`);
  await page.waitForSelector('#out[data-done]', { timeout: 20000 });
  const text = await page.textContent('#out');
  const done = await page.getAttribute('#out', 'data-done');
  console.log(`page result: ${text}`);
  const r = done === 'ok' ? JSON.parse(text) : null;
  ok = !!r && errors.length === 0 &&
    r.roomSession === 'function' && r.room === 'initialized' && r.call === 'disconnected' &&
    JSON.stringify(r.error) === JSON.stringify([true, 'InvalidParamsError', -32602]) &&
    r.name53105 === 'RoomMaxParticipantsExceededError';
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  srv.close();
}
console.log(ok ? 'vite app ok' : 'vite app FAILED');
process.exit(ok ? 0 : 1);
