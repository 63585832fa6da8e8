// The client library in Chromium, vanilla and React (StrictMode, a
// development build, so components render twice): concurrent tabs, clicks
// before the first snapshot, the first render, refused changes, the console
// messages of misconfigurations, the provider and selectors, page errors.
//
// Against the real server (MIRRORSTATE_BIN) where it has what the test
// needs, and against the client's fake server (fake-http.mjs) for the
// protocol additions the server gains separately (the strict check, ref and
// name on every error, applied, page_error). The real-server runs of those
// are marked todo until then.
//
// Needs `npm ci --prefix examples/react` (the React build uses its Vite).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import {
  ROOT, WAIT, pretty, readJSON, removeDir, startServer, stopServer, tempDir, until, agentWrite,
} from '../lib/index.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startFake } from './fake-http.mjs';

const EXAMPLE = path.join(ROOT, 'examples', 'react');
const VITE = path.join(EXAMPLE, 'node_modules', 'vite', 'bin', 'vite.js');
const STRICT_TODO = 'needs the server\'s strict check (docs/protocol.md, patch "strict")';

let work, site, browser;
const cleanups = [];

// Builds tests/e2e/react-app in a temporary directory using the React
// example's node_modules, as a development build (StrictMode renders twice).
function buildReactApp(out) {
  const src = path.join(ROOT, 'tests', 'e2e', 'react-app');
  const dir = path.join(work, 'react-app');
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  fs.symlinkSync(path.join(EXAMPLE, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const r = spawnSync(process.execPath, [VITE, 'build', '--mode', 'development', '--outDir', out, '--emptyOutDir'], {
    cwd: dir, encoding: 'utf8', timeout: 180000, env: { ...process.env, NODE_ENV: 'development' },
  });
  assert.equal(r.status, 0, `vite build failed:\n${r.stdout}\n${r.stderr}`);
}

before(async () => {
  assert.ok(fs.existsSync(VITE), 'vite is not installed: run npm ci --prefix examples/react');
  work = tempDir('mirrorstate-client-e2e-');
  site = path.join(work, 'site');
  buildReactApp(site);
  for (const f of ['counter.html', 'counter.js']) fs.copyFileSync(path.join(ROOT, 'tests', 'e2e', 'pages', f), path.join(site, f));
  browser = await launchBrowser();
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await browser?.close();
  removeDir(work);
});

// --- servers -------------------------------------------------------------

async function real(state, extra = []) {
  const dir = tempDir();
  const file = path.join(dir, 'app.json');
  if (state !== undefined) fs.writeFileSync(file, pretty(state));
  const s = await startServer({ files: [file], args: ['--static', site, ...extra] });
  const stop = async () => {
    await stopServer(s);
    removeDir(dir);
  };
  cleanups.push(stop);
  return { base: s.base, value: () => readJSON(file), file, stop };
}

async function fake(state) {
  const f = await startFake({ app: state }, { staticDir: site });
  cleanups.push(f.close);
  return { base: f.base, value: () => f.fake.value('app'), fake: f.fake, stop: f.close };
}

// A page with the browser console collected.
async function open(url, { hold } = {}) {
  const page = await browser.context.newPage();
  const consoleMessages = [];
  page.on('console', (m) => consoleMessages.push({ type: m.type(), text: m.text() }));
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  let release = null;
  if (hold) {
    // Messages from the server wait until release(): the page runs before
    // its first snapshot arrives.
    const queue = [];
    let holding = true;
    let deliver = null;
    await page.routeWebSocket(/\/_mirrorstate\/ws/, (ws) => {
      const server = ws.connectToServer();
      deliver = (m) => ws.send(m);
      server.onMessage((m) => { if (holding) queue.push(m); else ws.send(m); });
      ws.onMessage((m) => server.send(m));
    });
    release = () => {
      holding = false;
      for (const m of queue.splice(0)) deliver(m);
    };
  }
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, consoleMessages, pageErrors, release };
}

const count = (page) => page.locator('[data-testid=count]').textContent();
const pending = (page) => page.evaluate(() => window.page && window.page.app ? window.page.app.pending : -1);
const warnings = (c) => c.consoleMessages.filter((m) => m.type === 'warning' || m.type === 'error').map((m) => m.text);

async function clickFast(page, n) {
  await page.evaluate(async (times) => {
    const b = document.querySelector('[data-testid=inc]');
    for (let i = 0; i < times; i++) {
      b.click();
      await new Promise((r) => setTimeout(r, 0));
    }
  }, n);
}

// --- two tabs, 20 simultaneous "+" each ---------------------------------

async function twoTabs(server, pagePath) {
  const tabs = [await open(server.base + pagePath), await open(server.base + pagePath)];
  for (const t of tabs) await until(async () => (await count(t.page)) === '0', 'the count shown');
  await Promise.all(tabs.map((t) => clickFast(t.page, 20)));
  await until(async () => {
    for (const t of tabs) if ((await pending(t.page)) !== 0) return false;
    const shown = await Promise.all(tabs.map((t) => count(t.page)));
    return shown[0] === shown[1] && shown[0] === String(server.value()?.count);
  }, 'both tabs settled and equal to the server');
  for (const t of tabs) {
    assert.deepEqual(t.pageErrors, []);
    await t.page.close();
  }
  assert.equal(server.value().count, 40, 'every increment counted');
}

test('vanilla: two tabs x 20 simultaneous "+" count 40 (fake server with the strict check)', async () => {
  const s = await fake({ count: 0 });
  await twoTabs(s, 'counter.html');
  assert.ok(s.fake.conflicts > 0, 'the tabs raced: some patches were stale');
  await s.stop();
});

test('React StrictMode: two tabs x 20 simultaneous "+" count 40 (fake server with the strict check)', async () => {
  const s = await fake({ count: 0 });
  await twoTabs(s, '');
  await s.stop();
});

test('vanilla: two tabs x 20 simultaneous "+" count 40 (real server)', async () => {
  const s = await real({ count: 0 });
  await twoTabs(s, 'counter.html');
  await s.stop();
});

test('React StrictMode: two tabs x 20 simultaneous "+" count 40 (real server)', async () => {
  const s = await real({ count: 0 });
  await twoTabs(s, '');
  await s.stop();
});

// --- a click before the first snapshot -----------------------------------

async function clickBeforeSnapshot(pagePath) {
  const s = await real({ count: 99 });
  const t = await open(s.base + pagePath, { hold: true });
  await t.page.locator('[data-testid=inc]').click();
  assert.equal(s.value().count, 99, 'nothing reached the server before the snapshot');
  t.release();
  await until(() => s.value()?.count === 100, 'the file at 100');
  await until(async () => (await count(t.page)) === '100', 'the page at 100');
  assert.equal(s.value().count, 100);
  assert.deepEqual(t.pageErrors, []);
  await t.page.close();
  await s.stop();
}

test('vanilla: "+" clicked before the first snapshot on a file holding 99 gives 100', async () => {
  await clickBeforeSnapshot('counter.html?mode=early');
});

test('React StrictMode: "+" clicked before the first snapshot on a file holding 99 gives 100', async () => {
  await clickBeforeSnapshot('?mode=nosuspense');
});

// --- the first render ------------------------------------------------------

function withBoot(file, name, boot) {
  const html = fs.readFileSync(path.join(site, file), 'utf8')
    .replace('<!--BOOT-->', `<script>window.__MIRRORSTATE__ = ${JSON.stringify(boot)};</script>`);
  fs.writeFileSync(path.join(site, name), html);
}

test('vanilla: the first render shows the file\'s value (boot data, and await ready)', async () => {
  const s = await real({ count: 5 });
  withBoot('counter.html', 'counter-boot.html', { states: { app: { version: 1, exists: true, state: { count: 5 } } } });
  // Boot data: rendered before any message from the server.
  const b = await open(`${s.base}counter-boot.html`, { hold: true });
  await until(async () => (await b.page.evaluate(() => window.renders.length)) > 0, 'a render');
  assert.deepEqual(await b.page.evaluate(() => window.renders), [5]);
  b.release();
  await b.page.locator('[data-testid=status][data-status=live]').waitFor();
  assert.deepEqual(await b.page.evaluate(() => window.renders), [5], 'the snapshot equal to it renders nothing');
  await b.page.close();
  // No boot data: `await state.ready` before the first render.
  const a = await open(`${s.base}counter.html?mode=await`);
  await a.page.locator('[data-testid=status][data-status=live]').waitFor();
  assert.deepEqual(await a.page.evaluate(() => window.renders), [5]);
  await a.page.close();
  await s.stop();
});

test('React StrictMode: the first render shows the file\'s value, at most 2 renders on load', async () => {
  const s = await real({ count: 5 });
  const t = await open(s.base);
  await until(async () => (await count(t.page)) === '5', 'the count');
  await t.page.waitForTimeout(300); // room for a late render to show up
  const renders = await t.page.evaluate(() => window.renders);
  assert.ok(renders.length >= 1 && renders.length <= 2, `renders on load: ${JSON.stringify(renders)}`);
  assert.deepEqual(renders.filter((v) => v !== 5), [], `every render shows the file's value: ${JSON.stringify(renders)}`);
  assert.deepEqual(t.pageErrors, []);
  assert.equal(await t.page.locator('[data-testid=status]').getAttribute('data-status'), 'live');
  await t.page.close();

  // With boot data the first render comes before any message from the
  // server; connect() with no URL finds the server at the page's origin.
  withBoot('index.html', 'react-boot.html', { states: { app: { version: 1, exists: true, state: { count: 5 } } } });
  const b = await open(`${s.base}react-boot.html?auto`, { hold: true });
  await until(async () => (await count(b.page)) === '5', 'the boot value');
  b.release();
  await b.page.locator('[data-testid=status][data-status=live]').waitFor();
  await b.page.waitForTimeout(200);
  const bootRenders = await b.page.evaluate(() => window.renders);
  assert.ok(bootRenders.length <= 2 && bootRenders.every((v) => v === 5), `boot renders: ${JSON.stringify(bootRenders)}`);
  await b.page.close();
  await s.stop();
});

// --- refused changes ------------------------------------------------------

async function refused(server, pagePath) {
  const t = await open(server.base + pagePath);
  await until(async () => (await count(t.page)) === '3', 'the count');
  await t.page.locator('[data-testid=refused]').click();
  await t.page.locator('[data-testid=error][data-code=bad_message]').waitFor();
  await until(async () => (await pending(t.page)) === 0, 'settled');
  assert.deepEqual(server.value(), { count: 3 });
  assert.equal(await t.page.evaluate(() => JSON.stringify(window.page.app.get())), JSON.stringify({ count: 3 }), 'rolled back');
  const w = warnings(t).filter((x) => /refused a change to "app"/.test(x));
  assert.equal(w.length, 1, `one warning: ${JSON.stringify(warnings(t))}`);
  // The page keeps working.
  await t.page.locator('[data-testid=inc]').click();
  await until(() => server.value()?.count === 4, 'the next click');
  await t.page.close();
}

test('vanilla: a refused change is rolled back and reported (fake server)', async () => {
  const s = await fake({ count: 3 });
  await refused(s, 'counter.html');
  await s.stop();
});

test('React: a refused change is rolled back and reported (fake server)', async () => {
  const s = await fake({ count: 3 });
  await refused(s, '');
  await s.stop();
});

test('vanilla: a refused change is rolled back and reported (real server)', async () => {
  const s = await real({ count: 3 });
  await refused(s, 'counter.html');
  await s.stop();
});

// --- console messages for misconfigurations ------------------------------

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

test('console: an unknown state, an unreachable server and a refused token each name the problem', async () => {
  const s = await real({ count: 1 });
  const u = await open(`${s.base}counter.html?state=todo&mode=early`);
  await until(() => warnings(u).some((x) => x.includes('mirrorstate:')), 'a message about the unknown state');
  await u.page.locator('[data-testid=status][data-status=error]').waitFor();
  const unknown = warnings(u).filter((x) => x.includes('mirrorstate:'));
  assert.equal(unknown.length, 1, JSON.stringify(unknown));
  assert.match(unknown[0], /does not mirror a state named "todo"; it mirrors: "app"/);
  assert.equal(await u.page.locator('[data-testid=error]').getAttribute('data-code'), 'unknown_state');
  await u.page.close();

  const port = await freePort();
  const d = await open(`${s.base}counter.html?mode=early&url=${encodeURIComponent(`ws://127.0.0.1:${port}/_mirrorstate/ws`)}`);
  await until(() => warnings(d).some((x) => x.includes('cannot reach')), 'the unreachable warning', WAIT);
  assert.match(warnings(d).find((x) => x.includes('cannot reach')), new RegExp(`ws://127\\.0\\.0\\.1:${port}/_mirrorstate/ws.*mirrorstate serve`));
  await d.page.locator('[data-testid=status][data-status=offline]').waitFor();
  await d.page.close();
  await s.stop();

  const tok = await real({ count: 1 }, ['--token', 'tok-123']);
  const r = await open(`${tok.base}counter.html?token=tok-123&clientToken=wrong&mode=early`);
  await until(() => warnings(r).some((x) => x.includes('refused the connection')), 'a message about the token');
  await r.page.locator('[data-testid=status][data-status=error]').waitFor();
  const refusedMsgs = warnings(r).filter((x) => x.includes('refused the connection'));
  assert.equal(refusedMsgs.length, 1, JSON.stringify(warnings(r)));
  assert.match(refusedMsgs[0], /missing or wrong token.*connect\(\{ token \}\)/);
  assert.doesNotMatch(refusedMsgs[0], /wrong&|token=wrong/);
  await r.page.close();
  await tok.stop();
});

// --- React: the provider under StrictMode, selectors ---------------------

test('React StrictMode: <MirrorProvider url> stays open; a click reaches the server', async () => {
  const s = await real({ count: 1 });
  const t = await open(`${s.base}?mode=provider`);
  await until(async () => (await count(t.page)) === '1', 'the count');
  await t.page.locator('[data-testid=status][data-status=live]').waitFor();
  await t.page.locator('[data-testid=inc]').click();
  await until(() => s.value()?.count === 2, 'the click in the file');
  await t.page.locator('[data-testid=inc]').click();
  await until(() => s.value()?.count === 3, 'the second click in the file');
  assert.deepEqual(warnings(t).filter((x) => x.includes('mirrorstate')), []);
  assert.deepEqual(t.pageErrors, []);
  await t.page.close();
  await s.stop();
});

test('React: useMirrorSelector re-renders only when its slice changes', async () => {
  const s = await real({ count: 1, other: 'a' });
  const t = await open(`${s.base}?mode=selector`);
  await until(async () => (await t.page.locator('[data-testid=slice-other]').textContent()) === 'a', 'the slices');
  await t.page.waitForTimeout(100);
  const before = await t.page.evaluate(() => ({ ...window.sliceRenders }));
  agentWrite(s.file, pretty({ count: 1, other: 'b' }));
  await until(async () => (await t.page.locator('[data-testid=slice-other]').textContent()) === 'b', 'the new slice');
  await t.page.waitForTimeout(150);
  const mid = await t.page.evaluate(() => ({ ...window.sliceRenders }));
  assert.equal(mid.count, before.count, 'the count slice did not re-render');
  assert.ok(mid.other > before.other, 'the other slice did');
  await t.page.locator('[data-testid=inc]').click();
  await until(async () => (await t.page.locator('[data-testid=slice-count]').textContent()) === '2', 'the count slice');
  await t.page.waitForTimeout(150);
  const last = await t.page.evaluate(() => ({ ...window.sliceRenders }));
  assert.equal(last.other, mid.other, 'the other slice did not re-render');
  await t.page.close();
  await s.stop();
});

// --- the agent's loop: applied and page errors ---------------------------

test('the page reports the versions it applied and its errors (fake server)', async () => {
  const s = await fake({ count: 1 });
  const t = await open(`${s.base}counter.html?mode=await`);
  await until(async () => (await count(t.page)) === '1', 'the count');
  for (let i = 0; i < 5; i++) await t.page.locator('[data-testid=inc]').click();
  await until(() => s.value().count === 6, 'five clicks');
  const appliedOf = () => s.fake.received.filter((m) => m.type === 'applied').map((m) => m.version);
  await until(() => appliedOf().at(-1) === 6, 'the final version reported');
  await t.page.evaluate(() => { setTimeout(() => { throw new TypeError('count.toFixed is not a function'); }); });
  await t.page.evaluate(() => { Promise.reject(new Error('save failed')); });
  await t.page.evaluate(() => { console.error('render failed', 42); });
  await until(() => s.fake.pageErrors.length === 3, 'three page errors');
  const [e1, e2, e3] = s.fake.pageErrors;
  assert.equal(e1.kind, 'error');
  assert.match(e1.message, /count\.toFixed is not a function/);
  assert.match(e1.stack, /TypeError/);
  assert.equal(e1.url, `${s.base}counter.html`, 'without the query');
  assert.deepEqual(e1.states, { app: 6 });
  assert.equal(e2.kind, 'unhandledrejection');
  assert.match(e2.message, /save failed/);
  assert.equal(e3.kind, 'console');
  assert.equal(e3.message, 'render failed 42');
  await t.page.close();
  await s.stop();
});
