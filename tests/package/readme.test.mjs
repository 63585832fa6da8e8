// The README's "No build step" snippet, taken verbatim from README.md and
// served as its comment says (mirrorstate serve --file state.json
// --static .): in Chromium the page shows the file's value from its first
// paint, a click reaches the file and a file edit reaches the page. The
// same-origin way: the page, client.js and the WebSocket share the
// binary's origin.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, agentWrite, pretty, readJSON, removeDir, startServer, stopServer, tempDir, until,
} from '../lib/index.mjs';
import { launchBrowser } from '../lib/browser.mjs';

let dir, server, browser, page;
const errors = [];

/** The first ```html block after the heading `### No build step`. */
function snippet() {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('\n### No build step\n');
  assert.ok(at >= 0, 'README.md has a "No build step" section');
  const m = /```html\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, 'the section has an html snippet');
  return m[1];
}

before(async () => {
  dir = tempDir();
  const html = snippet();
  assert.match(html, /mirrorstate serve --file state\.json --static \./, 'the snippet says how it is served');
  fs.writeFileSync(path.join(dir, 'index.html'), html);
  fs.writeFileSync(path.join(dir, 'state.json'), pretty({ count: 5 }));
  server = await startServer({ files: [path.join(dir, 'state.json')], args: ['--static', dir] });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  // Every value #count ever shows, from the first paint on.
  await page.addInitScript(() => {
    window.shown = [];
    new MutationObserver(() => {
      const el = document.querySelector('#count');
      if (el && el.textContent !== window.shown.at(-1)) window.shown.push(el.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  removeDir(dir);
});

const count = () => page.locator('#count').textContent();

test('the README snippet, verbatim: the file\'s value first, then clicks and edits both ways', async () => {
  await page.goto(server.base, { waitUntil: 'domcontentloaded' });
  await until(async () => (await count()) === '5', 'the file\'s 5 shown');
  assert.deepEqual(await page.evaluate(() => window.shown.filter((v) => v !== '')), ['5'], 'the first value shown is the file\'s');

  await page.locator('#inc').click();
  await page.locator('#inc').click();
  await until(() => readJSON(path.join(dir, 'state.json'))?.count === 7, 'the clicks in the file');
  assert.equal(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'), pretty({ count: 7 }));

  agentWrite(path.join(dir, 'state.json'), pretty({ count: 40 }));
  await until(async () => (await count()) === '40', 'the file edit on the page');
  assert.deepEqual(errors, []);
});
