// Launches the system Chromium through playwright-core with the same flags as webdriver.json
// (headless, fake camera and microphone, loopback WebRTC). Shared by the package load check and
// the end-to-end tests.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const webdriver = JSON.parse(readFileSync(join(ROOT, 'webdriver.json'), 'utf8'));
const chrome = webdriver['goog:chromeOptions'] ?? {};

/** Path of the Chromium binary (CHROMIUM_PATH overrides webdriver.json). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || chrome.binary || '/usr/bin/chromium';
/** Command-line flags of webdriver.json, minus the headless switch playwright adds itself. */
export const CHROMIUM_ARGS = (chrome.args ?? []).filter((a) => !a.startsWith('--headless'));

/** Starts a headless Chromium; other playwright launch options may be given, `args` are appended. */
export function launchChromium({ args = [], ...options } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...args],
  });
}
