// The React + Vite example (examples/react), built with `vite build` and
// served by the real server: `mirrorstate serve --file TMP/state.json
// --static examples/react/dist`. Needs `npm ci --prefix examples/react`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, agentWrite, pretty, readJSON, removeDir, sleep, startServer, stopServer, tempDir, until,
} from '../lib/index.mjs';
import { launchBrowser, screenshot, watchErrors } from '../lib/browser.mjs';

const APP = path.join(ROOT, 'examples', 'react');
const VITE = path.join(APP, 'node_modules', 'vite', 'bin', 'vite.js');

let dir, file, server, browser, page, errors;

before(async () => {
  assert.ok(fs.existsSync(VITE), 'vite is not installed: run npm ci --prefix examples/react');
  dir = tempDir();
  const out = path.join(dir, 'dist');
  const build = spawnSync(process.execPath, [VITE, 'build', '--outDir', out, '--logLevel', 'warn'], {
    cwd: APP, encoding: 'utf8', timeout: 120000,
  });
  assert.equal(build.status, 0, `vite build failed:\n${build.stdout}\n${build.stderr}`);
  file = path.join(dir, 'state.json');
  fs.writeFileSync(file, fs.readFileSync(path.join(APP, 'state.json')));
  server = await startServer({ files: [file], args: ['--static', out] });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  errors = watchErrors(page);
  await page.goto(server.base, { waitUntil: 'domcontentloaded' });
  await page.locator('[data-testid=status][data-status=open]').waitFor();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  removeDir(dir);
});

const text = (id) => page.locator(`[data-testid=${id}]`).textContent();
const renders = () => page.evaluate(() => ({ ...window.renderCounts }));

test('two components share one state; clicks reach the file', async () => {
  await until(async () => (await text('count')) === '0', 'count 0');
  assert.equal(await text('badge'), 'count 0');
  const todos = readJSON(file).todos;
  await until(async () => (await page.locator('[data-testid=todos] li').count()) === todos.length, 'todos shown');
  await screenshot(page, 'react-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'react-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  for (let i = 0; i < 3; i++) await page.locator('[data-testid=inc]').click();
  await until(async () => (await text('count')) === '3' && (await text('badge')) === 'count 3', 'both show 3');
  await until(() => readJSON(file)?.count === 3, 'count 3 in the file');

  await page.locator('[data-testid=new]').fill('Ship it');
  await page.locator('[data-testid=new]').press('Enter');
  await until(() => readJSON(file)?.todos?.at(-1)?.text === 'Ship it', 'todo in the file');
  await page.locator('[data-testid=todos] li').first().locator('input[type=checkbox]').click();
  await until(() => readJSON(file)?.todos?.[0]?.done === true, 'first todo done in the file');
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});

test('one render per file change', async () => {
  const state = readJSON(file);
  for (const n of [40, 41, 42]) {
    const before = await renders();
    agentWrite(file, pretty({ ...state, count: n }));
    await until(async () => (await text('count')) === String(n) && (await text('badge')) === `count ${n}`, `count ${n} shown`);
    await sleep(150); // room for any extra render to show up in the counts
    const now = await renders();
    for (const c of ['Counter', 'CountBadge', 'Todos']) {
      assert.equal(now[c] - before[c], 1, `${c} rendered once for the change to ${n}`);
    }
  }
  await screenshot(page, 'react-after-file-edit');
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});
