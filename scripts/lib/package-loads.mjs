// Loads the release npm package (pkg/) in a real headless Chromium page and checks that its
// wasm initialises (`await init()`) with no page error. A broken optimiser or a bad import only
// shows up here, not in unit tests.
// Usage: node package-loads.mjs path/to/pkg
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchChromium } from './chromium.mjs';
import { serve } from './static-server.mjs';

const pkgDir = resolve(process.argv[2] ?? 'pkg');
function fail(message) {
  console.log(`FAIL: ${message}`);
  console.log('TIER-COUNT 0 1');
  process.exit(1);
}
if (!existsSync(join(pkgDir, 'package.json'))) fail(`no package in ${pkgDir} (run scripts/build)`);
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const entry = pkg.module ?? pkg.main;
if (!entry || !existsSync(join(pkgDir, entry))) fail(`package.json names no existing entry (${entry})`);

const page_html = `<!doctype html><meta charset="utf-8"><title>package load check</title><link rel="icon" href="data:,">
<script type="module">
  try {
    const mod = await import('/pkg/${entry}');
    const wasm = await mod.default();
    window.__result = {
      ok: true,
      exports: Object.keys(mod).filter((k) => k !== 'default').length,
      memory: wasm && wasm.memory ? wasm.memory.buffer.byteLength : 0,
    };
  } catch (e) {
    window.__result = { ok: false, error: String(e && e.stack || e) };
  }
</script>`;

const server = await serve({ mounts: { '/pkg/': pkgDir }, pages: { '/': page_html } });
const browser = await launchChromium();
const problems = [];
let result;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30_000 });
  result = await page.evaluate(() => window.__result);
  console.log(`browser: ${await page.evaluate(() => navigator.userAgent)}`);
} catch (e) {
  problems.push(String(e));
} finally {
  await browser.close();
  await server.close();
}
if (result && !result.ok) problems.unshift(`init() failed: ${result.error}`);
if (problems.length > 0 || !result) fail(problems.join('\n      '));
console.log(`ok: ${pkg.name}@${pkg.version} (${entry}) initialised, ${result.exports} exports, ` +
  `${result.memory} bytes of wasm memory`);
console.log('TIER-COUNT 1 0');
