// Debian's Chromium through playwright-core, headless with a fresh profile,
// for the browser tests. Not in index.mjs: only browser tests load
// playwright.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ARTIFACTS, WAIT } from './env.mjs';
import { removeDir, tempDir } from './files.mjs';

export { ARTIFACTS };

/** Launches Chromium ($CHROMIUM, default /usr/bin/chromium) headless with
 * a fresh profile; extraArgs are added to Chromium's arguments, other
 * options go to playwright's launchPersistentContext (viewport,
 * colorScheme, ...). Resolves { context, close, profile }. */
export async function launchBrowser({ extraArgs = [], ...options } = {}) {
  const profile = tempDir('mirrorstate-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync', ...extraArgs],
    viewport: { width: 900, height: 720 },
    timeout: WAIT * 2,
    ...options,
  });
  context.setDefaultTimeout(WAIT);
  const close = async () => {
    await context.close().catch(() => {});
    removeDir(profile);
  };
  return { context, close, profile };
}

/** Collects console errors and page errors of a page, for assertions. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return errors;
}

/** Saves a full-page screenshot to tests/artifacts/NAME.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
