// The vanilla todo example (examples/todo) in Chromium against the real
// server: `mirrorstate serve --file TMP/state.json --static examples/todo`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, WAIT, agentWrite, pretty, readJSON, removeDir, startServer, stopServer, tempDir, until,
} from '../lib/index.mjs';
import { launchBrowser, screenshot, watchErrors } from '../lib/browser.mjs';

const STATIC = path.join(ROOT, 'examples', 'todo');
const SAMPLE = JSON.parse(fs.readFileSync(path.join(STATIC, 'state.json'), 'utf8'));

let dir, file, server, browser;

before(async () => {
  dir = tempDir();
  file = path.join(dir, 'state.json');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  removeDir(dir);
});

async function fresh(state, port = 0) {
  await stopServer(server);
  fs.writeFileSync(file, pretty(state));
  server = await startServer({ files: [file], port, args: ['--static', STATIC] });
  return server;
}

async function openPage() {
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await page.goto(server.base, { waitUntil: 'domcontentloaded' });
  await page.locator('[data-testid=status][data-status=open]').waitFor();
  return { page, errors: () => errors.filter((e) => e.startsWith('pageerror')) };
}

const texts = (page) => page.locator('li[data-testid=item] .text').allTextContents();

async function itemsOnPage(page, want, what) {
  await until(async () => JSON.stringify(await texts(page)) === JSON.stringify(want), what);
}

const fileItems = () => readJSON(file)?.items;

test('the page shows the file; a click changes the file', async () => {
  await fresh(SAMPLE);
  const { page, errors } = await openPage();
  await itemsOnPage(page, SAMPLE.items.map((t) => t.text), 'sample items');
  assert.equal(await page.locator('#title').textContent(), SAMPLE.title);
  await screenshot(page, 'todo-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'todo-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.locator('li[data-id="1"] input[type=checkbox]').click();
  await until(() => fileItems()?.[0]?.done === true, 'item 1 done in the file');
  await page.locator('[data-testid=new]').fill('Water the plants');
  await page.locator('[data-testid=new]').press('Enter');
  await until(() => fileItems()?.length === 4 && fileItems()[3].text === 'Water the plants', 'new item in the file');
  assert.deepEqual(fileItems()[3], { id: 4, text: 'Water the plants', done: false });
  // The file is what JavaScript would print.
  assert.equal(fs.readFileSync(file, 'utf8'), pretty(readJSON(file)));
  assert.deepEqual(errors(), []);
  await page.close();
});

test('a file write changes the page', async () => {
  await fresh(SAMPLE);
  const { page, errors } = await openPage();
  await itemsOnPage(page, SAMPLE.items.map((t) => t.text), 'sample items');
  const next = structuredClone(SAMPLE);
  next.title = 'Edited by an agent';
  next.items[2].done = true;
  next.items.push({ id: 9, text: 'Added in the file', done: false });
  agentWrite(file, pretty(next));
  await itemsOnPage(page, next.items.map((t) => t.text), 'the new item');
  await until(async () => (await page.locator('#title').textContent()) === 'Edited by an agent', 'new title');
  assert.equal(await page.locator('li[data-id="3"] input[type=checkbox]').isChecked(), true);
  assert.deepEqual(errors(), []);
  await page.close();
});

test('10 rapid additions lose nothing', async () => {
  await fresh({ title: 'Rapid', filter: 'all', items: [] });
  const { page, errors } = await openPage();
  const input = page.locator('[data-testid=new]');
  for (let i = 1; i <= 10; i++) {
    await input.fill(`task ${i}`);
    await input.press('Enter');
  }
  const want = Array.from({ length: 10 }, (_, i) => `task ${i + 1}`);
  await until(() => JSON.stringify(fileItems()?.map((t) => t.text)) === JSON.stringify(want), 'ten items in the file');
  assert.deepEqual(fileItems().map((t) => t.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  await itemsOnPage(page, want, 'ten items on the page');

  // And ten clicks in one synchronous burst (one batched message).
  // Each click re-renders the list, so look every checkbox up afresh.
  await page.evaluate(() => {
    for (let id = 1; id <= 10; id++) document.querySelector(`li[data-id="${id}"] input[type=checkbox]`).click();
  });
  await until(() => fileItems()?.filter((t) => t.done).length === 10, 'ten done in the file');
  assert.deepEqual(errors(), []);
  await page.close();
});

test('three tabs stay in sync', async () => {
  await fresh(SAMPLE);
  const tabs = [await openPage(), await openPage(), await openPage()];
  const all = SAMPLE.items.map((t) => t.text);
  for (const { page } of tabs) await itemsOnPage(page, all, 'sample items');

  await tabs[0].page.locator('[data-testid=new]').fill('From tab one');
  await tabs[0].page.locator('[data-testid=new]').press('Enter');
  await tabs[1].page.locator('li[data-id="2"] input[type=checkbox]').click();
  await tabs[2].page.locator('li[data-id="3"] .delete').click({ force: true });

  const want = [SAMPLE.items[0].text, SAMPLE.items[1].text, 'From tab one'];
  for (const { page } of tabs) await itemsOnPage(page, want, 'all three changes in every tab');
  for (const { page } of tabs) {
    await until(async () => !(await page.locator('li[data-id="2"] input[type=checkbox]').isChecked()), 'item 2 unticked everywhere');
  }
  await until(() => JSON.stringify(fileItems()?.map((t) => t.text)) === JSON.stringify(want), 'the file agrees');
  assert.equal(fileItems()[1].done, false);
  await screenshot(tabs[2].page, 'todo-tab3');
  for (const t of tabs) {
    assert.deepEqual(t.errors(), []);
    await t.page.close();
  }
});

test('server restart while the page has unsent changes: nothing lost', async () => {
  const { port } = await fresh(SAMPLE);
  const { page, errors } = await openPage();
  await itemsOnPage(page, SAMPLE.items.map((t) => t.text), 'sample items');

  const code = await stopServer(server);
  assert.equal(code, 0, 'clean exit on SIGTERM');
  await page.locator('[data-testid=status]:not([data-status=open])').waitFor();

  // Changes made while the server is down.
  await page.locator('[data-testid=new]').fill('Made while offline');
  await page.locator('[data-testid=new]').press('Enter');
  await page.locator('li[data-id="3"] input[type=checkbox]').click();
  await page.locator('li[data-id="1"] .delete').click({ force: true });
  await screenshot(page, 'todo-offline');
  assert.deepEqual(fileItems().map((t) => t.text), SAMPLE.items.map((t) => t.text), 'nothing reached the file yet');

  server = await startServer({ files: [file], port, args: ['--static', STATIC] });
  await page.locator('[data-testid=status][data-status=open]').waitFor({ timeout: WAIT * 2 });
  const want = [SAMPLE.items[1].text, SAMPLE.items[2].text, 'Made while offline'];
  await until(() => JSON.stringify(fileItems()?.map((t) => t.text)) === JSON.stringify(want), 'offline changes in the file');
  assert.equal(fileItems().find((t) => t.id === 3).done, true);
  await itemsOnPage(page, want, 'the page agrees');
  assert.deepEqual(errors(), []);
  await page.close();
});

test('invalid JSON in the file shows a banner; the page recovers when it is fixed', async () => {
  await fresh(SAMPLE);
  const { page, errors } = await openPage();
  await itemsOnPage(page, SAMPLE.items.map((t) => t.text), 'sample items');
  const banner = page.locator('[data-testid=banner]');
  assert.equal(await banner.isVisible(), false);

  const broken = pretty(SAMPLE).replace('"done": true', '"done" true');
  agentWrite(file, broken);
  await banner.waitFor({ state: 'visible' });
  await until(async () => /invalid JSON/.test(await banner.textContent()), 'the banner names the problem');
  const lineNo = broken.split('\n').findIndex((l) => l.includes('"done" true')) + 1;
  assert.match(await banner.textContent(), new RegExp(`line ${lineNo}\\b`));
  await screenshot(page, 'todo-invalid');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'todo-invalid-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(fs.readFileSync(file, 'utf8'), broken, 'the invalid file is left alone');

  // The page keeps working meanwhile.
  await page.locator('li[data-id="1"] input[type=checkbox]').click();
  assert.equal(fs.readFileSync(file, 'utf8'), broken);

  // The agent fixes the file and adds an item.
  const fixed = structuredClone(SAMPLE);
  fixed.items.push({ id: 7, text: 'Added with the fix', done: false });
  agentWrite(file, pretty(fixed));
  await banner.waitFor({ state: 'hidden' });
  const want = [...SAMPLE.items.map((t) => t.text), 'Added with the fix'];
  await itemsOnPage(page, want, 'the fixed file on the page');
  // The click made while the file was invalid survives the fix.
  await until(() => fileItems()?.length === 4 && fileItems()[0].done === true, 'both the fix and the click in the file');
  assert.equal(await page.locator('li[data-id="1"] input[type=checkbox]').isChecked(), true);
  assert.deepEqual(errors(), []);
  await page.close();
});
