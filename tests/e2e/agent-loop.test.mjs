// A scripted agent session against the todo example open in Chromium as
// the user's page: every command is one the guide (AGENT.md, `mirrorstate
// agent-md`) shows, run through /bin/sh from the directory `serve` was
// started in, with the state's file in a subdirectory. It covers the loop
// the guide teaches: find the server, read, change, confirm the page
// caught up (`sync --pages`), learn what the user did (`watch`, with each
// change described), undo the agent's own change while keeping the user's,
// recover from an invalid save, see the page's errors, and the same loop
// over MCP with the reference SDK.
//
// Waits are hang guards only: a `sync` asked to wait up to 600 s for the
// pages must come back long before the 60 s the test gives it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  BIN, ROOT, pretty, readJSON, removeDir, runCli, startServer, stopServer, tempDir, until,
} from '../lib/index.mjs';
import { launchBrowser, screenshot } from '../lib/browser.mjs';

const STATIC = path.join(ROOT, 'examples', 'todo');
const SAMPLE = JSON.parse(fs.readFileSync(path.join(STATIC, 'state.json'), 'utf8'));
const GUARD = 60000;

let dir, bin, xdg, env, file, server, browser, page;

/** One guide command line through sh, in the directory serve started in. */
function sh(cmd) {
  return runCli(['-c', cmd], { bin: '/bin/sh', cwd: dir, env, timeout: GUARD });
}

async function ok(cmd) {
  const r = await sh(cmd);
  assert.equal(r.code, 0, `${cmd}\nexit ${r.code}\nstderr: ${r.stderr}`);
  return r;
}

const json = (r) => JSON.parse(r.stdout);
const jsonLines = (r) => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const texts = () => page.locator('li[data-testid=item] .text').allTextContents();
const current = () => readJSON(file);

before(async () => {
  dir = tempDir('mirrorstate-agent-');
  bin = tempDir('mirrorstate-bin-');
  xdg = tempDir('mirrorstate-xdg-');
  fs.chmodSync(xdg, 0o700);
  fs.symlinkSync(BIN, path.join(bin, 'mirrorstate'));
  env = { PATH: `${bin}:${process.env.PATH}`, MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '', XDG_RUNTIME_DIR: xdg };
  fs.mkdirSync(path.join(dir, 'app'));
  file = path.join(dir, 'app', 'todo.json');
  fs.writeFileSync(file, pretty(SAMPLE));
  // As AGENT.md's "Which file is live" shows it, plus the page and a free port.
  server = await startServer({ cwd: dir, files: ['app/todo.json'], args: ['--log', 'events.log', '--static', STATIC], env: { XDG_RUNTIME_DIR: xdg } });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.goto(`${server.base}?state=todo`, { waitUntil: 'domcontentloaded' });
  await page.locator('[data-testid=status][data-status=open]').waitFor();
  await until(async () => (await texts()).length === SAMPLE.items.length, 'the page shows the list');
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  for (const d of [dir, bin, xdg]) if (d) removeDir(d);
});

test('the agent finds the server from where serve started, the file in a subdirectory; agent-md names the state and its file', async () => {
  const s = json(await ok('mirrorstate status'));
  assert.deepEqual(s.states.map((x) => [x.name, x.file, x.status]), [['todo', fs.realpathSync(file), 'ok']]);
  assert.equal(s.log, path.join(fs.realpathSync(dir), 'events.log'));
  const md = (await ok('mirrorstate agent-md')).stdout;
  assert.match(md, /^# This project: what MirrorState mirrors here now\n/);
  assert.match(md, /\| `todo` \| `app\/todo\.json` \| 1 \| parses \|/);
  assert.match(md, /mirrorstate sync todo --pages/);
  assert.match(md, /\n# Working on an app mirrored by MirrorState\n/);
  assert.deepEqual(json(await ok('mirrorstate get todo')), SAMPLE);
});

test('a user action, then undo of the agent\'s earlier version: the agent\'s change goes, the user\'s stay; watch names the user\'s items by id', async () => {
  const add = await ok(`mirrorstate set todo /items/- '{"id": 4, "text": "Buy bread", "done": false}'`);
  assert.deepEqual(json(add), { type: 'ack', name: 'todo', version: 2 });
  await until(async () => (await texts()).includes('Buy bread'), 'the page shows the agent\'s item');

  // The user ticks the first item and adds one.
  await page.locator('li[data-id="1"] input[type=checkbox]').check();
  await page.locator('#new').fill('Call mum');
  await page.locator('#new').press('Enter');
  await until(() => current().items.some((t) => t.text === 'Call mum') && current().items[0].done === true, 'the file has both user changes');

  const seen = jsonLines(await ok('mirrorstate watch todo --origin client --once --since 2 --timeout 600'));
  assert.deepEqual(seen.map((c) => [c.version, c.origin.startsWith('client:'), c.desc]), [
    [3, true, ['items[id=1].done: false \u2192 true']],
    [4, true, ['items[id=5] added: {"id":5,"text":"Call mum","done":false}']],
  ]);

  const undo = await ok('mirrorstate undo todo 2');
  assert.deepEqual(json(undo), { type: 'ack', name: 'todo', version: 5, undone: [2] });
  const want = ['Buy oat milk', 'Pick up the dry cleaning', 'Book a table for Friday', 'Call mum'];
  await until(async () => JSON.stringify(await texts()) === JSON.stringify(want), 'the page without the agent\'s item, with the user\'s');
  assert.equal(await page.locator('li[data-id="1"] input[type=checkbox]').isChecked(), true, 'the user\'s tick stays');
  assert.deepEqual(current().items.map((t) => t.id), [1, 2, 3, 5]);
  await screenshot(page, 'agent-loop-undo');
});

test('sync: an invalid save answers at once with exit 1 and the line; a fix back to the value and a no-op save answer at once with exit 0; an edit is confirmed by the page', async () => {
  const value = current();
  fs.writeFileSync(file, pretty(value).replace('"filter": "all",', '"filter": "all"'));
  let r = await sh('mirrorstate sync todo --pages --timeout 600');
  assert.equal(r.code, 1, r.stderr);
  assert.equal(json(r).status, 'invalid');
  assert.match(r.stderr, /app\/todo\.json:4:3: the file of state "todo" is not valid JSON: .*; the line:   "items": \[; the state stays at version 5 until the file parses/);
  await page.locator('#banner[data-code=file_invalid]').waitFor();

  // Fixed back to what the state holds: nothing to take in.
  fs.writeFileSync(file, pretty(value));
  r = await ok('mirrorstate sync todo --pages --timeout 600');
  assert.deepEqual(json(r), { type: 'synced', name: 'todo', status: 'unchanged', version: 5, pages: { confirmed: 1, total: 1, errors: [] } });
  await page.locator('#banner').waitFor({ state: 'hidden' });

  // A real edit: applied, and the page confirms it.
  fs.writeFileSync(file, pretty({ ...value, title: 'Weekend' }));
  r = await ok('mirrorstate sync todo --pages --timeout 600');
  assert.deepEqual(json(r), { type: 'synced', name: 'todo', status: 'applied', version: 6, pages: { confirmed: 1, total: 1, errors: [] } });
  assert.equal(await page.locator('#title').textContent(), 'Weekend', 'confirmed means shown');

  // The same value saved again in other bytes: nothing to do.
  fs.writeFileSync(file, JSON.stringify({ ...value, title: 'Weekend' }));
  r = await ok('mirrorstate sync todo --pages --timeout 600');
  assert.deepEqual([json(r).status, json(r).version, json(r).pages.confirmed], ['unchanged', 6, 1]);
});

test('a value of the wrong shape makes the page throw: errors shows it, sync --pages reports it, undo takes it back', async () => {
  const bad = await ok('mirrorstate set todo /items/- null');
  assert.equal(json(bad).version, 7);
  const errs = await until(async () => {
    const l = jsonLines(await ok('mirrorstate errors --since 7'));
    return l.length ? l : null;
  }, 'the page error');
  assert.equal(errs[0].kind, 'error');
  assert.match(errs[0].message, /TypeError: Cannot read properties of null/);
  assert.equal(errs[0].states.todo, 7);
  assert.equal(errs[0].url, server.base);
  const r = await ok('mirrorstate sync todo --pages --timeout 600');
  assert.match(json(r).pages.errors[0].message, /TypeError/);
  assert.match(r.stderr, /a page reported an error after version 7: .*TypeError/);

  assert.deepEqual(json(await ok('mirrorstate undo todo 7')), { type: 'ack', name: 'todo', version: 8, undone: [7] });
  await until(async () => (await texts()).length === 4, 'the page renders again');
  assert.equal(jsonLines(await ok('mirrorstate errors --since 8')).length, 0);
});

test('the same loop over MCP with the reference SDK: sync confirms the page, page_errors lists what it threw, undo keeps the user\'s change', async (t) => {
  const transport = new StdioClientTransport({ command: path.join(bin, 'mirrorstate'), args: ['mcp'], cwd: dir, env: { ...process.env, ...env }, stderr: 'pipe' });
  const client = new Client({ name: 'agent-loop', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  const text = (r) => r.content.map((c) => c.text).join('\n');

  let r = await client.callTool({ name: 'set_value', arguments: { name: 'todo', pointer: '/title', value: 'Sunday' } });
  assert.equal(r.structuredContent.version, 9, text(r));
  await page.locator('li[data-id="2"] input[type=checkbox]').uncheck(); // the user, v10
  await until(() => current().items[1].done === false, 'the user\'s click in the file');
  r = await client.callTool({ name: 'sync', arguments: { name: 'todo', pages: true, timeout: 600 } });
  assert.ok(!r.isError, text(r));
  assert.deepEqual(r.structuredContent.results.map((x) => [x.status, x.version, x.pages.confirmed, x.pages.total]), [['unchanged', 10, 1, 1]]);
  r = await client.callTool({ name: 'page_errors', arguments: { name: 'todo', since: 7 } });
  assert.equal(r.structuredContent.errors.length, 1);
  assert.match(r.structuredContent.errors[0].message, /TypeError/);
  r = await client.callTool({ name: 'undo', arguments: { name: 'todo', versions: [9] } });
  assert.deepEqual(r.structuredContent, { type: 'ack', name: 'todo', version: 11, undone: [9] });
  await until(async () => (await page.locator('#title').textContent()) === 'Weekend', 'the page shows the title back');
  assert.equal(await page.locator('li[data-id="2"] input[type=checkbox]').isChecked(), false, 'the user\'s click stays');
});
