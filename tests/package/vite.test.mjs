// mirrorstate-client as a user adopts it: packed with `npm pack`, installed
// from the tarball into a fresh Vite + React + TypeScript app, type-checked
// with tsc, and run under `vite` with `mirrorstate({ files: [...] })` in
// Chromium (React StrictMode): the first render shows the file, clicks
// reach the file, file edits reach the page, an invalid file shows Vite's
// overlay until it is fixed, a zustand store follows the file both ways,
// and stopping Vite stops the binary.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BIN, ROOT, agentWrite, alive, pretty, readJSON, removeDir, runCli, sleep, startServer, stopProcess, stopServer,
  tempDir, tryConnect, until,
} from '../lib/index.mjs';
import { launchBrowser, screenshot } from '../lib/browser.mjs';
import { makeApp, pack, startVite } from './lib.mjs';

let packed, made, vite, browser, page, pageErrors, consoleLines;
// The servers made in this process serve no page: no dependency
// pre-bundling, which would go on writing into node_modules/.vite after
// close() and race the removal of the app.
const NO_PREBUNDLING = { optimizeDeps: { noDiscovery: true, include: [] } };
const binaries = []; // pids of the binaries the plugin started, killed after a failure

before(async () => {
  packed = pack(tempDir('mirrorstate-pack-'));
  made = makeApp(packed.tarball);
});

after(async () => {
  await browser?.close();
  if (vite) await stopProcess(vite.proc);
  for (const pid of binaries) if (alive(pid)) process.kill(pid, 'SIGKILL');
  made?.cleanup();
  if (packed) removeDir(path.dirname(packed.tarball));
});

const file = (name) => path.join(made.app, name);
const text = (id) => page.locator(`[data-testid=${id}]`).textContent();
const storeData = () => page.evaluate(() => {
  const s = globalThis.todoStore.getState();
  return Object.fromEntries(Object.entries(s).filter(([, v]) => typeof v !== 'function'));
});

test('the tarball holds the entry points, their types, LICENSE and CHANGELOG, and no tests', () => {
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md',
    'src/client.js', 'src/react.js', 'src/patch.js', 'integrations/vite.js', 'integrations/zustand.js',
    'types/client.d.ts', 'types/react.d.ts', 'types/patch.d.ts', 'types/vite.d.ts', 'types/zustand.d.ts']) {
    assert.ok(packed.files.includes(f), `${f} is in the tarball (${packed.files.join(', ')})`);
  }
  for (const f of packed.files) assert.match(f, /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|src\/|integrations\/|types\/)/, `${f} belongs in the package`);

  const pkg = JSON.parse(fs.readFileSync(path.join(made.app, 'node_modules', 'mirrorstate-client', 'package.json'), 'utf8'));
  for (const entry of ['.', './react', './patch', './vite', './zustand']) {
    const e = pkg.exports[entry];
    assert.ok(e && e.types && e.default, `exports["${entry}"] has types and default`);
    assert.ok(packed.files.includes(e.types.slice(2)) && packed.files.includes(e.default.slice(2)), `exports["${entry}"] points into the tarball`);
  }
  for (const peer of ['react', 'vite', 'zustand']) {
    assert.ok(pkg.peerDependencies[peer], `${peer} is a peer dependency`);
    assert.equal(pkg.peerDependenciesMeta[peer]?.optional, true, `${peer} is optional`);
  }
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.license, 'MIT');
  const installed = JSON.parse(fs.readFileSync(path.join(made.app, 'package.json'), 'utf8'));
  assert.match(installed.dependencies['mirrorstate-client'], /\.tgz$/, 'installed from the tarball');
  assert.ok(!fs.lstatSync(path.join(made.app, 'node_modules', 'mirrorstate-client')).isSymbolicLink(), 'a copy, not a link');
});

test('tsc passes in the fresh app: bundler resolution (app), nodenext (vite.config.ts), node16 without skipLibCheck', () => {
  const tsc = path.join(made.app, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const args of [['-b'], ['-p', 'tsconfig.node16.json']]) {
    try {
      execFileSync(process.execPath, [tsc, ...args], { cwd: made.app, encoding: 'utf8', timeout: 120000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      assert.fail(`tsc ${args.join(' ')} failed:\n${e.stdout}${e.stderr}`);
    }
  }
});

test('vite with the plugin: one origin, the banner shows the panel', async () => {
  fs.writeFileSync(file('state.json'), pretty({ count: 41 }));
  fs.writeFileSync(file('todo.json'), pretty({ title: 'Groceries', items: [{ id: 1, text: 'milk', done: false }] }));
  vite = await startVite(made.app, { MIRRORSTATE_BIN: BIN });
  const origin = new URL(vite.url).origin;
  assert.equal(vite.panel, `${origin}/_mirrorstate/`, 'the panel is served on Vite\'s own port');
  assert.match(vite.output(), /MirrorState: \S+\s+\(state, todo\)/);
  const health = await fetch(`${origin}/_mirrorstate/healthz`).then((r) => r.json());
  assert.equal(health.ok, true);
  const panel = await fetch(vite.panel);
  assert.equal(panel.status, 200);
  const html = await fetch(vite.url).then((r) => r.text());
  const boot = /<script>globalThis\.__MIRRORSTATE__ = (.*?);<\/script>/.exec(html);
  assert.ok(boot, 'the page carries the boot data');
  assert.deepEqual(JSON.parse(boot[1]).states.state, { version: 1, exists: true, state: { count: 41 } });
  assert.equal(JSON.parse(boot[1]).url, '/_mirrorstate/ws');
});

test('Chromium, StrictMode: first render shows the file; clicks and file edits go both ways', async () => {
  browser = await launchBrowser();
  page = await browser.context.newPage();
  pageErrors = [];
  consoleLines = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  await page.goto(vite.url, { waitUntil: 'domcontentloaded' });
  await until(async () => (await text('count')) === '41', 'the count shown');
  const renders = await page.evaluate(() => window.counterRenders);
  assert.equal(renders[0], 41, `the first render shows the file's value (renders: ${JSON.stringify(renders)})`);
  assert.ok(!renders.includes(0), `no render shows the initial value (renders: ${JSON.stringify(renders)})`);
  const todoRenders = await page.evaluate(() => window.todoRenders);
  assert.equal(todoRenders[0], 1, `the zustand store starts with the file's items (renders: ${JSON.stringify(todoRenders)})`);
  assert.equal(await text('title'), 'Groceries');
  await page.evaluate(() => { window.sameDocument = true; });

  await page.locator('[data-testid=inc]').click();
  await until(() => readJSON(file('state.json'))?.count === 42, 'the click in the file');
  await until(async () => (await text('count')) === '42', 'the page shows 42');

  agentWrite(file('state.json'), pretty({ count: 100 }));
  await until(async () => (await text('count')) === '100', 'the file edit on the page');
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'no page reload');
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleLines.filter((l) => l.startsWith('error')), [], 'no console errors');
});

test('zustand: the store and the file stay equal both ways', async () => {
  await page.locator('[data-testid=new]').fill('eggs');
  await page.locator('[data-testid=new]').press('Enter');
  await until(() => readJSON(file('todo.json'))?.items?.[1]?.text === 'eggs', 'the new item in the file');
  await page.locator('[data-testid=items] li').first().locator('input').click();
  await until(() => readJSON(file('todo.json'))?.items?.[0]?.done === true, 'the toggle in the file');
  await until(async () => JSON.stringify(await storeData()) === JSON.stringify(readJSON(file('todo.json'))), 'store equals file');

  const edited = { title: 'Hardware', items: [{ id: 1, text: 'milk', done: true }, { id: 2, text: 'eggs', done: false }, { id: 3, text: 'nails', done: false }] };
  agentWrite(file('todo.json'), pretty(edited));
  await until(async () => (await text('title')) === 'Hardware', 'the edited title on the page');
  assert.deepEqual(await storeData(), edited, 'the store holds exactly the file\'s data');
  assert.equal(await page.locator('[data-testid=items] li').count(), 3);
  assert.equal(typeof (await page.evaluate(() => typeof globalThis.todoStore.getState().add)), 'string');
  assert.equal(await page.evaluate(() => typeof globalThis.todoStore.getState().add), 'function', 'actions survive a change from the file');

  await page.locator('[data-testid=new]').fill('glue');
  await page.locator('[data-testid=new]').press('Enter');
  await until(() => readJSON(file('todo.json'))?.items?.length === 4, 'the fourth item in the file');
  await sleep(100);
  assert.deepEqual(await storeData(), readJSON(file('todo.json')));
  assert.deepEqual(pageErrors, []);
});

test('an invalid state file shows Vite\'s overlay with file, line and column; the fix clears it', async () => {
  fs.writeFileSync(file('state.json'), '{\n  "count": 100,\n  "oops" 1\n}\n');
  const overlay = page.locator('vite-error-overlay');
  await overlay.waitFor({ state: 'attached' });
  const message = await overlay.locator('.message-body').textContent();
  assert.match(message, /state\.json:3:10: invalid JSON/, message);
  assert.match(message, /will not overwrite the file/);
  const fileLine = await overlay.locator('.file').textContent();
  assert.ok(fileLine.includes(`${file('state.json')}:3:10`), fileLine);
  const frame = await overlay.locator('.frame').textContent();
  assert.match(frame, /^3 \| {3}"oops" 1\n {2}\| {10}\^$/m, frame);
  assert.match(await overlay.locator('.plugin').textContent(), /mirrorstate/);
  await screenshot(page, 'vite-overlay-invalid-state');
  assert.equal(readJSON(file('state.json')), undefined, 'the server did not overwrite the invalid file');

  // A page opened while the file is invalid shows the overlay too.
  const second = await browser.context.newPage();
  await second.goto(vite.url, { waitUntil: 'domcontentloaded' });
  await second.locator('vite-error-overlay').waitFor({ state: 'attached' });
  await second.close();

  agentWrite(file('state.json'), pretty({ count: 7 }));
  await overlay.waitFor({ state: 'detached' });
  await until(async () => (await text('count')) === '7', 'the fixed value on the page');
});

test('stopping vite (Ctrl-C) stops the mirrorstate binary', async () => {
  const runtime = JSON.parse(fs.readFileSync(file('.mirrorstate/server.json'), 'utf8'));
  binaries.push(runtime.pid);
  assert.ok(alive(runtime.pid), 'the binary runs');
  await browser.close();
  browser = null;
  const { signal, code } = await stopProcess(vite.proc, 'SIGINT');
  assert.ok(signal === 'SIGINT' || code === 0 || code === 130, `vite stopped (${signal || code})`);
  vite = null;
  await until(() => !alive(runtime.pid), 'the binary gone');
});

// The app's own Vite and the installed plugin, driven through Vite's API.
async function viteApi() {
  const require = createRequire(path.join(made.app, 'package.json'));
  const vite = await import(pathToFileURL(require.resolve('vite')).href);
  const { default: plugin } = await import(pathToFileURL(require.resolve('mirrorstate-client/vite')).href);
  const create = (options, server = {}) => vite.createServer({
    root: made.app, configFile: false, logLevel: 'silent', server: { port: 0, ...server }, plugins: [plugin(options)],
    ...NO_PREBUNDLING,
  });
  return { create };
}

test('server.close() stops the binary it started', async () => {
  const { create } = await viteApi();
  const server = await create({ file: 'state.json', bin: BIN });
  await server.listen();
  const runtime = JSON.parse(fs.readFileSync(file('.mirrorstate/server.json'), 'utf8'));
  binaries.push(runtime.pid);
  assert.ok(alive(runtime.pid), 'the binary runs');
  const res = await fetch(new URL('/_mirrorstate/api/states/state', server.resolvedUrls.local[0]));
  assert.deepEqual(await res.json(), { count: 7 });
  await server.close();
  await until(() => !alive(runtime.pid), 'the binary gone');
});

/** Runs `vite` with a config holding mirrorstate(options) and returns its
 * output once it exits (it must fail to start). Vite leaves its watcher
 * open when a plugin's configureServer throws, so this runs in its own
 * process, as a user's `vite` does. */
function failedStart(options, env = {}) {
  const config = path.join(made.app, 'vite.failing.config.mjs');
  fs.writeFileSync(config, `import mirrorstate from 'mirrorstate-client/vite';\nexport default { plugins: [mirrorstate(${JSON.stringify(options)})] };\n`);
  return runCli(['node_modules/vite/bin/vite.js', '--config', config, '--port', '0'], {
    bin: process.execPath, cwd: made.app, env, timeout: 30000,
  }).then((r) => ({ code: r.code, out: r.output }));
}

test('a missing binary or a port in use stops Vite with a message that says what to do', async () => {
  let r = await failedStart({ bin: path.join(made.dir, 'nowhere', 'mirrorstate') });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /the bin option names \S+nowhere\/mirrorstate, which is not an executable file\. Install the mirrorstate binary/);

  r = await failedStart({}, { PATH: path.join(made.dir, 'nowhere'), MIRRORSTATE_BIN: undefined });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /the mirrorstate binary is not on the PATH\. Install the mirrorstate binary .*MIRRORSTATE_BIN/);

  const other = await startServer({ files: [path.join(made.dir, 'other.json')] });
  try {
    r = await failedStart({ bin: BIN, port: other.port });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /exited with status 1 before serving/);
    assert.ok(r.out.includes(`--port ${other.port}`), r.out);
  } finally {
    await stopServer(other);
  }
});

test('url: attaches to a running server, proxies to it, and leaves it running', async () => {
  const other = await startServer({ files: [path.join(made.dir, 'shared.json')] });
  try {
    fs.writeFileSync(path.join(made.dir, 'shared.json'), pretty({ shared: true }));
    const { create } = await viteApi();
    const server = await create({ url: other.base });
    await server.listen();
    const local = server.resolvedUrls.local[0];
    await until(async () => (await (await fetch(new URL('/_mirrorstate/api/states/shared', local))).json())?.shared === true, 'the state through the proxy');
    const html = await (await fetch(local)).text();
    assert.match(html, /globalThis\.__MIRRORSTATE__ = \{"url":"\/_mirrorstate\/ws","states":\{"shared":\{"version":\d+,"exists":true,"state":\{"shared":true\}\}\}\}/);
    await server.close();
    assert.equal(other.proc.exitCode, null, 'the attached server still runs');
  } finally {
    await stopServer(other);
  }
});

/** Opens a WebSocket to url with these Host and Origin headers; resolves
 * with 'hello' or the HTTP status of the refusal. */
async function upgrade(url, host, origin) {
  const { port, pathname } = new URL(url);
  const r = await tryConnect({ port }, { path: pathname, headers: { Host: host }, origin }).catch(() => ({ status: 'error' }));
  r.client?.close();
  return r.status === 101 ? r.client.hello.type : r.status;
}

test('one allowlist: names in Vite\'s allowedHosts reach the binary through the proxy; others and foreign origins are refused', async () => {
  const { create } = await viteApi();
  const server = await create({ file: 'state.json', bin: BIN }, { allowedHosts: ['app.test'] });
  await server.listen();
  try {
    const port = new URL(server.resolvedUrls.local[0]).port;
    const ws = `ws://127.0.0.1:${port}/_mirrorstate/ws`;
    assert.equal(await upgrade(ws, `localhost:${port}`, `http://localhost:${port}`), 'hello');
    assert.equal(await upgrade(ws, `app.test:${port}`, `http://app.test:${port}`), 'hello', 'a host Vite allows');
    assert.equal(await upgrade(ws, `evil.test:${port}`, `http://evil.test:${port}`), 403, 'a host Vite does not allow (DNS rebinding)');
    assert.equal(await upgrade(ws, `localhost:${port}`, 'http://evil.test'), 403, 'a foreign page (cross-site WebSocket)');
  } finally {
    await server.close();
  }
});

test('the README\'s proxy recipe for Vite without the plugin carries HTTP and WebSockets to a separate server', async () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Any other dev server'));
  const line = /^server: \{ proxy: .*\}$/m.exec(section);
  assert.ok(line, 'the recipe is in the README');
  const other = await startServer({ files: [path.join(made.dir, 'recipe.json')] });
  try {
    const recipe = new Function(`return { ${line[0].replace('http://127.0.0.1:7420', other.base.replace(/\/$/, ''))} };`)();
    const require = createRequire(path.join(made.app, 'package.json'));
    const vite = await import(pathToFileURL(require.resolve('vite')).href);
    const server = await vite.createServer({ root: made.app, configFile: false, logLevel: 'silent', server: { port: 0, ...recipe.server }, ...NO_PREBUNDLING });
    await server.listen();
    try {
      const local = new URL(server.resolvedUrls.local[0]);
      const states = await (await fetch(new URL('/_mirrorstate/api/states', local))).json();
      assert.deepEqual(states.states.map((s) => s.name), ['recipe']);
      assert.equal(await upgrade(`ws://127.0.0.1:${local.port}/_mirrorstate/ws`, `localhost:${local.port}`, `http://localhost:${local.port}`), 'hello');
    } finally {
      await server.close();
    }
  } finally {
    await stopServer(other);
  }
});

