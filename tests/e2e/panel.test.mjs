// Browser end-to-end tests of the devtools panel against the real server:
// build/mirrorstate (or $MIRRORSTATE_BIN) serving a temp file on a free port,
// the panel in Debian's Chromium via playwright-core, and a second
// WebSocket client (the `ws` package) standing in for an app.
//
// Run: node --test tests/e2e/panel.test.mjs   (after building the server)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN, ROOT, WAIT, agentWrite as save, connect, pretty, removeDir, startServer as start, stopServer, tempDir, until,
} from '../lib/index.mjs';
import { ARTIFACTS, launchBrowser } from '../lib/browser.mjs';
import { startFake } from './fake-http.mjs';

let tmp, file, server, base, port, browser, closeBrowser, page;
const clients = [];

const startServer = (stateFile, listenPort = 0, extra = []) =>
  start({ files: [stateFile], port: listenPort, args: extra });
const agentWrite = (text) => save(file, text);

function readState() {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// A protocol client standing in for an app.
async function client({ origin, identify } = {}) {
  const c = await connect(server, { origin, identify, label: `app${clients.length + 1}` });
  clients.push(c);
  return c;
}

async function shot(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `panel-${name}.png`) });
}

const valueAt = (pointer) => page.locator(`#tree .row[data-path="${pointer}"] > .v`);

before(async () => {
  assert.ok(fs.existsSync(BIN), `server binary not found: ${BIN} (build it first)`);
  tmp = tempDir('ms-panel-');
  file = path.join(tmp, 'todo.json');
  fs.writeFileSync(file, pretty({
    items: [{ id: 1, text: 'milk', done: false }, { id: 2, text: 'bread', done: true }],
    filter: 'all',
    user: { name: 'Ada', theme: 'dark' },
  }));
  server = await startServer(file);
  ({ url: base, port } = server);
  ({ context: browser, close: closeBrowser } = await launchBrowser({
    viewport: { width: 1360, height: 760 },
    colorScheme: 'light',
  }));
  page = browser.pages()[0] || await browser.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.error('page console:', m.text()); });
});

after(async () => {
  for (const c of clients) c.close();
  if (closeBrowser) await closeBrowser();
  await stopServer(server);
  removeDir(tmp);
});

test('the panel shows the live state, its file and the connection', async () => {
  await page.goto(base);
  await page.locator('#conn[data-state=open]').waitFor();
  await valueAt('/items/0/text').filter({ hasText: '"milk"' }).waitFor();
  const st = page.locator('#states li.state[data-name=todo]');
  await st.waitFor();
  assert.match(await st.innerText(), /todo/);
  assert.match(await st.innerText(), /v1/);
  assert.equal(await st.getAttribute('data-status'), 'ok');
  assert.equal(await page.locator('#state-head .file').getAttribute('title'), file);
  await shot('1-live-state');
});

let editVersion;

test('an edit in the panel reaches the file and another client, with origin panel', async () => {
  const other = await client();
  other.send({ type: 'subscribe', name: 'todo' });
  await other.next({ type: 'snapshot' });

  await valueAt('/items/0/text').click();
  const input = page.locator('#tree input.edit');
  await input.fill('"oat milk"');
  await input.press('Enter');

  await until(() => readState().items[0].text === 'oat milk', 'the file to hold the panel edit');
  const patch = await other.next({ type: 'patch', origin: 'panel' });
  assert.deepEqual(patch.ops.filter((o) => o.op !== 'test').map((o) => [o.path, o.value]), [['/items/0/text', 'oat milk']]);
  editVersion = patch.version;

  await valueAt('/items/0/text').filter({ hasText: '"oat milk"' }).waitFor();
  const entry = page.locator('#log li.le[data-origin=panel]').last();
  await entry.waitFor();
  assert.match(await entry.innerText(), /\/items\/0\/text/);
  assert.match(await entry.innerText(), /"milk"/); // old value, from the panel's copy
  assert.match(await entry.innerText(), /"oat milk"/);
});

test('keys are added and removed from the tree', async () => {
  const userRow = page.locator('#tree .row[data-path="/user"]');
  await userRow.hover();
  await userRow.locator('button.act', { hasText: '+' }).click();
  const adding = page.locator('#tree .row.adding');
  await adding.locator('input.key-in').fill('email');
  await adding.locator('input.key-in').press('Enter');
  await adding.locator('input.edit:not(.key-in)').fill('"ada@example.org"');
  await adding.locator('input.edit:not(.key-in)').press('Enter');
  await until(() => readState().user.email === 'ada@example.org', 'the added key in the file');
  await valueAt('/user/email').waitFor();

  const emailRow = page.locator('#tree .row[data-path="/user/email"]');
  await emailRow.hover();
  await emailRow.locator('button.act.del').click();
  await until(() => !('email' in readState().user), 'the key removed from the file');
  await emailRow.waitFor({ state: 'detached' });
});

test('the raw editor shows where its JSON is invalid and applies valid JSON as a set', async () => {
  await page.locator('[data-view=raw]').click();
  const ta = page.locator('#raw textarea');
  await ta.waitFor();
  const text = await ta.inputValue();
  await ta.fill(text.replace('"all"', '"all",'));
  const status = page.locator('#raw .raw-status');
  await status.filter({ hasText: /line \d+, column \d+/ }).waitFor();
  assert.equal(await page.locator('#raw button.primary').isDisabled(), true);
  await shot('2-raw-invalid');
  await ta.fill(text.replace('"all"', '"active"'));
  await status.filter({ hasText: 'valid JSON' }).waitFor();
  await page.locator('#raw button.primary').click();
  await until(() => readState().filter === 'active', 'the file to hold the raw edit');
  await page.locator('[data-view=tree]').click();
  await valueAt('/filter').filter({ hasText: '"active"' }).waitFor();
});

test('a file edit appears in the tree and in the log with origin file', async () => {
  const s = readState();
  s.items[0].done = true;
  s.items.push({ id: 3, text: 'eggs', done: false });
  agentWrite(pretty(s));
  await valueAt('/items/0/done').filter({ hasText: 'true' }).waitFor();
  await valueAt('/items/2/text').filter({ hasText: '"eggs"' }).waitFor();
  const entry = page.locator('#log li.le[data-origin=file]').last();
  await entry.waitFor();
  const t = await entry.innerText();
  assert.match(t, /\/items\/0\/done/);
  assert.match(t, /false/);
  assert.match(t, /true/);
  await shot('3-file-edit');
});

test('an invalid file shows a banner with line, column and text, cleared by a fix', async () => {
  const good = fs.readFileSync(file, 'utf8');
  const bad = good.replace('"done": true', '"done" true');
  assert.notEqual(bad, good);
  const lines = bad.split('\n');
  const line = lines.findIndex((l) => l.includes('"done" true')) + 1;
  agentWrite(bad);
  try {
    const banner = page.locator('#banners .banner[data-kind=invalid]');
    await banner.waitFor();
    const t = await banner.innerText();
    assert.match(t, /todo\.json/);
    assert.match(t, new RegExp(`line ${line}, column \\d+`));
    assert.match(t, /"done" true/);
    assert.match(t, /not overwriting/);
    assert.equal(await page.locator('#states li.state[data-name=todo]').getAttribute('data-status'), 'invalid');
    await shot('4-invalid-banner');

    // The dark theme, while the banner is up.
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('5-invalid-banner-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    assert.equal(fs.readFileSync(file, 'utf8'), bad, 'the invalid file is left as written');
  } finally {
    agentWrite(good); // fixed even if an assertion failed, for the tests after this one
  }
  await page.locator('#banners .banner[data-kind=invalid]').waitFor({ state: 'detached' });
  await until(async () => (await page.locator('#states li.state[data-name=todo]').getAttribute('data-status')) === 'ok', 'status ok');
});

test('undo from the history takes back that change and keeps every later one', async () => {
  assert.ok(editVersion, 'the panel edit test ran');
  // Since the panel's edit: the raw edit (filter), the file edit (milk
  // ticked, eggs added) and an email added and removed.
  const before = readState();
  assert.deepEqual([before.items[0].text, before.items[0].done, before.items.length, before.filter], ['oat milk', true, 3, 'active']);
  await page.locator('[data-side=history]').click();
  const row = page.locator(`#history li.he[data-version="${editVersion}"]`);
  await row.waitFor();
  assert.equal(await row.locator('button.undo').innerText(), `Undo v${editVersion}`);
  await row.locator('button.undo').click();
  await until(() => readState().items[0].text === 'milk', 'the file to lose the panel edit');
  const after = readState();
  assert.deepEqual([after.items[0].done, after.items.length, after.filter], [true, 3, 'active'], 'the later changes stay');
  await valueAt('/items/0/text').filter({ hasText: '"milk"' }).waitFor();
  await page.locator('#toasts .toast', { hasText: `Undid the change of v${editVersion}` }).waitFor();

  // The file edit changed /items/0/done; so did nothing later: undone too.
  // Undoing the panel edit again conflicts with the undo just made.
  const again = page.locator(`#history li.he[data-version="${editVersion}"] button.undo`);
  await again.click();
  await page.locator('#toasts .toast.t-error', { hasText: `Cannot undo v${editVersion} of todo: /items/0/text was changed again` }).waitFor();
  assert.equal(readState().items[0].text, 'milk', 'nothing was undone');
  await page.locator('[data-side=log]').click();
});

test('reset from a viewed version brings the whole file back and says what it discarded', async () => {
  await page.locator('[data-side=history]').click();
  const row = page.locator(`#history li.he[data-version="${editVersion}"]`);
  await row.waitFor();
  await row.click(); // view that version
  await page.locator('#viewing').waitFor({ state: 'visible' });
  await valueAt('/items/0/done').filter({ hasText: 'false' }).waitFor();
  await shot('6-history-view');
  assert.equal(await page.locator('#view-reset').innerText(), `Reset to v${editVersion}`);
  await page.locator('#view-reset').click();
  await until(() => {
    const s = readState();
    return s.items[0].done === false && s.items[0].text === 'oat milk' && s.items.length === 2;
  }, 'the file to return to the version reset to');
  await page.locator('#viewing').waitFor({ state: 'hidden' });
  await valueAt('/items/0/done').filter({ hasText: 'false' }).waitFor();
  await page.locator('#toasts .toast', { hasText: new RegExp(`Reset todo to v${editVersion} \\(now v\\d+\\), discarding the changes of v${editVersion + 1}, `) }).waitFor();
  await page.locator('[data-side=log]').click();
});

test('an old version viewed after a reload is rebuilt from the server history', async () => {
  await page.reload();
  await page.locator('#conn[data-state=open]').waitFor();
  await page.locator('[data-side=history]').click();
  const row = page.locator(`#history li.he[data-version="${editVersion}"]`);
  await row.waitFor();
  await row.click();
  await page.locator('#viewing').waitFor({ state: 'visible' });
  // The state at that version: the panel edit done, the raw edit not yet.
  await valueAt('/items/0/text').filter({ hasText: '"oat milk"' }).waitFor();
  await valueAt('/filter').filter({ hasText: '"all"' }).waitFor();
  await page.locator('#back-live').click();
  await page.locator('#viewing').waitFor({ state: 'hidden' });
});

test('the client list shows a connected app client', async () => {
  await page.locator('[data-side=log]').click();
  const app = await client({ origin: `http://127.0.0.1:${port}`, identify: { role: 'app', page: `http://127.0.0.1:${port}/app/` } });
  app.send({ type: 'subscribe', name: 'todo' });
  await app.next({ type: 'snapshot' });
  const li = page.locator(`#clients li.client[data-id="${app.id}"]`);
  await li.waitFor();
  assert.equal(await li.getAttribute('data-role'), 'app');
  assert.match(await li.innerText(), /\/app\//);
  assert.match(await li.innerText(), /todo/);
  // and its edits are logged with its client origin
  app.send({ type: 'patch', name: 'todo', ops: [{ op: 'replace', path: '/user/theme', value: 'light' }], ref: 1 });
  await page.locator(`#log li.le[data-origin="client:${app.id}"]`).waitFor();
  await valueAt('/user/theme').filter({ hasText: '"light"' }).waitFor();
  await shot('7-clients');
});

test('the panel reconnects when the server restarts, and follows the new session', async () => {
  await stopServer(server);
  await page.locator('#conn[data-state=waiting]').waitFor();
  await shot('8-offline');
  server = await startServer(file, port);
  await page.locator('#conn[data-state=open]').waitFor();
  await page.locator('#log li.le.notice', { hasText: 'restarted' }).waitFor();
  await page.locator('#state-head .ver', { hasText: /^v1$/ }).waitFor();
  await valueAt('/user/theme').filter({ hasText: '"light"' }).waitFor();
});

test('with --token, the panel opened with ?token= connects', async () => {
  const tokFile = path.join(tmp, 'secret.json');
  fs.writeFileSync(tokFile, '{"k": 1}\n');
  const s = await startServer(tokFile, 0, ['--token', 'tok-123']);
  try {
    const p = await browser.newPage();
    p.setDefaultTimeout(WAIT);
    await p.goto(`${s.url}?token=tok-123`);
    await p.locator('#conn[data-state=open]').waitFor();
    await p.locator('#tree .row[data-path="/k"] > .v', { hasText: '1' }).waitFor();
    await p.close();
  } finally {
    await stopServer(s);
  }
});

// Relaying page errors to panels is the server's part: the panel's side is
// tested against the fake server, and the whole path against the real one.
async function pageErrorShown(real) {
  const site = tempDir('ms-panel-site-');
  fs.copyFileSync(path.join(ROOT, 'tests', 'e2e', 'pages', 'counter.html'), path.join(site, 'counter.html'));
  fs.copyFileSync(path.join(ROOT, 'tests', 'e2e', 'pages', 'counter.js'), path.join(site, 'counter.js'));
  fs.writeFileSync(path.join(site, 'app.json'), '{"count": 1}\n');
  const f = real
    ? await start({ files: [path.join(site, 'app.json')], args: ['--static', site] }).then((s) => ({ url: s.url, base: s.base, close: () => stopServer(s) }))
    : await startFake({ app: { count: 1 } }, { staticDir: site });
  const p = await browser.newPage();
  const app = await browser.newPage();
  try {
    p.setDefaultTimeout(WAIT);
    await p.goto(f.url);
    await p.locator('#conn[data-state=open]').waitFor();
    await app.goto(`${f.base}counter.html?mode=await`);
    await until(async () => (await app.locator('[data-testid=count]').textContent()) === '1', 'the app page');
    await app.evaluate(() => { setTimeout(() => { throw new TypeError('items.map is not a function'); }); });
    const entry = p.locator('#log li.le.page-error');
    await entry.waitFor();
    const appId = await entry.getAttribute('data-client');
    assert.match(appId, /^c\d+$/);
    assert.equal(await entry.getAttribute('data-kind'), 'error');
    assert.match(await entry.innerText(), /items\.map is not a function/);
    assert.match(await entry.innerText(), /counter\.html · showing app v1/);
    await p.locator(`#clients li.client[data-id="${appId}"] .cl-errors`, { hasText: '1 error' }).waitFor();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    if (!real) await p.screenshot({ path: path.join(ARTIFACTS, 'panel-9-page-error.png') });
  } finally {
    await app.close();
    await p.close();
    await f.close();
    removeDir(site);
  }
}

test('the panel shows the errors an app page reports, and which client reported them', async () => {
  await pageErrorShown(false);
});

test('the panel shows the errors an app page reports (real server)', async () => {
  await pageErrorShown(true);
});
