#!/usr/bin/env node
// Runs the end-to-end journeys one after another, each with its own timeout,
// against one convene-server in dev mode and one headless Chromium.
//
//   node tests/e2e/run.mjs            every journey
//   node tests/e2e/run.mjs 1 5        only journeys 1 and 5
//   E2E_TIMEOUT_MS=90000              per-journey timeout (default 60 s)
//   E2E_SERVER_LOG=1                  echo the server's output
//   E2E_UPDATE_DOCS=1                 copy the three-person screenshot to docs/
//
// Prints one line per journey and, last, `TIER-COUNT <passed> <failed>`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  OUTPUT, assertNoErrors, launchBrowser, newParticipant, roomName, sleep, startServer,
} from './harness.mjs';
import { JOURNEYS } from './journeys.mjs';

const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 60000);
const only = process.argv.slice(2).map(Number).filter(Boolean);
const selected = JOURNEYS.filter((j) => !only.length || only.includes(j.id));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  mkdirSync(OUTPUT, { recursive: true });
  let passed = 0;
  let failed = 0;
  const report = [];
  let server;
  let browser;
  const started = Date.now();
  try {
    server = await startServer({ log: !!process.env.E2E_SERVER_LOG });
    browser = await launchBrowser();
  } catch (err) {
    console.log(`e2e: could not start: ${err.message}`);
    console.log(`TIER-COUNT 0 ${selected.length}`);
    return 1;
  }
  for (const j of selected) {
    const t0 = Date.now();
    const people = [];
    let error = null;
    try {
      if (!server.alive()) server = await startServer({ log: !!process.env.E2E_SERVER_LOG });
      const body = async () => {
        for (const name of j.people) people.push(await newParticipant(browser, server, name));
        await j.run({ people, room: roomName(`j${j.id}`), server, browser });
        await sleep(300); // let late errors surface
        assertNoErrors(people);
      };
      await withTimeout(body(), TIMEOUT, `journey ${j.id}`);
    } catch (err) {
      error = err;
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (error) {
      failed += 1;
      console.log(`not ok ${j.id} - ${j.name} (${secs} s)`);
      console.log(`  ${String(error.message || error).split('\n').join('\n  ')}`);
      for (const p of people) {
        try {
          await p.page.screenshot({ path: join(OUTPUT, `fail-j${j.id}-${p.name}.png`), timeout: 5000 });
        } catch {
          // the page may be gone
        }
        const tail = p.logs.slice(-15);
        if (tail.length) console.log(`  [${p.name}] last console lines:\n    ${tail.join('\n    ')}`);
      }
      if (!server.alive()) console.log(`  the server died:\n${server.output.slice(-20).join('')}`);
    } else {
      passed += 1;
      console.log(`ok ${j.id} - ${j.name} (${secs} s)`);
    }
    report.push({ id: j.id, name: j.name, ok: !error, seconds: Number(secs), error: error ? String(error.message) : null });
    await Promise.allSettled(people.map((p) => withTimeout(p.context.close(), 10000, 'context close')));
  }
  await browser.close().catch(() => {});
  await server.stop().catch(() => {});
  writeFileSync(join(OUTPUT, 'report.json'), JSON.stringify({ passed, failed, seconds: (Date.now() - started) / 1000, journeys: report }, null, 2));
  console.log(`e2e: ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`TIER-COUNT ${passed} ${failed}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.log(`e2e: runner crashed: ${err.stack || err}`);
    console.log(`TIER-COUNT 0 ${selected.length}`);
    process.exit(1);
  },
);
