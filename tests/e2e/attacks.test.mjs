// Hostile pages in a real Chromium against the real server: a page on a
// foreign origin (a 256+ byte name) trying to read and write the state over
// the WebSocket, fetch() and a plain <form>; a DNS-rebinding page reading
// the app's files; a page framing the panel. And the friendly neighbour: a
// page of the app's dev server on another port importing the client.
//
// Attacker names (*.evil.test) resolve to 127.0.0.1 through Chromium's
// --host-resolver-rules; the attacker's pages come from a second small
// HTTP server. See docs/security.md.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  WAIT, connect, pretty, readJSON, removeDir, sleep, startServer, stopServer, tempDir, until,
} from '../lib/index.mjs';
import { launchBrowser } from '../lib/browser.mjs';

// 253 bytes: the longest DNS name; its origin is longer than 256 bytes.
const LONG = ['a', 'b', 'c', 'd'].map((c) => c.repeat(60)).join('.') + '.evil.test';
const STATE = { secret: 'STATE-SECRET', n: 1 };
const APP = 'export const secret = "APP-SOURCE-SECRET";\n';

let tmp, www, file, server, attacker, attackerPort, context, closeBrowser;
const pages = {}; // attacker server: path -> html (PORT replaced)

before(async () => {
  tmp = tempDir('ms-attacks-');
  www = path.join(tmp, 'www');
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, 'index.html'), '<!doctype html><title>app</title>\n');
  fs.writeFileSync(path.join(www, 'app.js'), APP);
  fs.writeFileSync(path.join(www, 'frame.html'), '<!doctype html><iframe id="f" src="/_mirrorstate/" width="900" height="500"></iframe>\n');
  // `make run`'s layout: the state file inside the app's directory.
  file = path.join(www, 'state.json');
  fs.writeFileSync(file, pretty(STATE));
  server = await startServer({ files: [file], args: ['--static', www] });
  attacker = http.createServer((req, res) => {
    const html = pages[req.url.split('?')[0]];
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ? html.replaceAll('PORT', String(server.port)) : 'not found');
  });
  await new Promise((r) => attacker.listen(0, '127.0.0.1', r));
  attackerPort = attacker.address().port;
  ({ context, close: closeBrowser } = await launchBrowser({
    extraArgs: ['--host-resolver-rules=MAP *.evil.test 127.0.0.1'],
  }));
});

after(async () => {
  if (closeBrowser) await closeBrowser();
  if (attacker) attacker.close();
  await stopServer(server);
  removeDir(tmp);
});

const fileUnchanged = () => assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), STATE, 'the state file is unchanged');

/** The page's window.result, or 'timeout' after WAIT (every wait is bounded). */
const result = (page) => page.evaluate((ms) => Promise.race([window.result, new Promise((r) => setTimeout(() => r('timeout'), ms))]), WAIT);

async function open(host, p, html) {
  pages[p] = html;
  const page = await context.newPage();
  await page.goto(`http://${host}:${attackerPort}${p}`);
  return page;
}

// The clients the server lists (a spy without Origin, like the CLI).
async function listClients() {
  const spy = await connect(server, { label: 'spy' });
  try {
    return (await spy.ask({ type: 'clients' })).clients;
  } finally {
    spy.close();
  }
}

test('a page on a 256+ byte foreign origin cannot open the WebSocket, read or write', async () => {
  const page = await open(LONG, '/ws.html', `<!doctype html><script>
    window.result = new Promise((resolve) => {
      const ws = new WebSocket('ws://127.0.0.1:PORT/_mirrorstate/ws', 'mirrorstate.v1');
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: 'subscribe', name: 'state' }));
        ws.send(JSON.stringify({ type: 'patch', name: 'state', ref: 1, ops: [{ op: 'replace', path: '/secret', value: 'pwned-ws' }] }));
      };
      ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === 'ack' || m.type === 'error') resolve({ opened: true, last: m }); };
      ws.onclose = () => resolve({ opened: false });
    });
  </script>`);
  assert.ok((await page.evaluate(() => location.origin)).length > 256);
  const r = await result(page);
  assert.deepEqual(r, { opened: false });
  fileUnchanged();
  assert.match(server.stderr, /refused WebSocket .*Origin not allowed/);
  await page.close();
});

test('a page on a 256+ byte foreign origin cannot change the state with fetch text/plain', async () => {
  const page = await open(LONG, '/fetch.html', '<!doctype html><title>fetch</title>');
  const status = await page.evaluate(async (port) => {
    const body = JSON.stringify({ type: 'patch', ops: [{ op: 'replace', path: '/secret', value: 'pwned-fetch' }] });
    const r = await fetch(`http://127.0.0.1:${port}/_mirrorstate/api/states/state`, {
      method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body,
    });
    return r.type;
  }, server.port);
  assert.equal(status, 'opaque'); // the request went out; its answer was a refusal
  fileUnchanged();
  await page.close();
});

test('a page on a 256+ byte foreign origin cannot change the state with a plain form POST', async () => {
  const page = await open(LONG, '/form.html', `<!doctype html>
    <form id="f" method="POST" enctype="text/plain" target="sink" action="http://127.0.0.1:PORT/_mirrorstate/api/states/state">
      <input name='{"type":"patch","ops":[{"op":"replace","path":"/secret","value":"pwned-form"}],"pad":"' value='"}'>
    </form><iframe name="sink"></iframe>`);
  const answered = page.waitForResponse((r) => r.url().includes('/api/states/state') && r.request().method() === 'POST');
  await page.evaluate(() => document.getElementById('f').submit());
  const res = await answered;
  assert.equal(res.status(), 403);
  fileUnchanged();
  await page.close();
});

// DNS rebinding, as the server sees it: the attacker's page came from
// rebind.evil.test:PORT (here 127.0.0.2, the server's port number); the name
// then resolves to the server, so the page's same-origin requests reach it
// with Host: rebind.evil.test:PORT. The attacker's server stands in for the
// rebound name by passing every other request on, headers untouched.
function rebindingServer(html) {
  const srv = http.createServer((req, res) => {
    if (req.url === '/attack.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
      return;
    }
    const fwd = http.request({ host: '127.0.0.1', port: server.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  return new Promise((resolve, reject) => {
    srv.on('error', reject);
    srv.listen(server.port, '127.0.0.2', () => resolve(srv));
  });
}

test('a DNS-rebinding page cannot read the app\'s files, the state or the runtime file', async () => {
  const rebind = await rebindingServer('<!doctype html><title>rebind</title>');
  const browser2 = await launchBrowser({ extraArgs: ['--host-resolver-rules=MAP rebind.evil.test 127.0.0.2'] });
  try {
    const page = await browser2.context.newPage();
    await page.goto(`http://rebind.evil.test:${server.port}/attack.html`);
    const got = await page.evaluate(async () => {
      const out = {};
      for (const p of ['/app.js', '/', '/state.json', '/.mirrorstate/server.json', '/_mirrorstate/api/states/state', '/missing.js']) {
        try {
          const r = await fetch(p);
          out[p] = { status: r.status, text: await r.text() };
        } catch (e) {
          out[p] = { status: 0, text: String(e) };
        }
      }
      return out;
    });
    const problems = [];
    for (const [p, r] of Object.entries(got)) {
      if (r.status !== 403) problems.push(`${p}: ${r.status} ${r.text.slice(0, 60)}`);
      if (/SECRET|token/.test(r.text)) problems.push(`${p}: read ${r.text.slice(0, 60)}`);
    }
    assert.deepEqual(problems, []);
    assert.match(server.stderr, /refused \/app\.js .*Host: rebind\.evil\.test/);
  } finally {
    await browser2.close();
    rebind.close();
  }
});

test('the panel cannot be framed by a foreign page; the server\'s own pages may frame it', async () => {
  const panels = async () => (await listClients()).filter((c) => c.role === 'panel').length;
  assert.equal(await panels(), 0);
  // The control: a page of the server's own origin frames the panel.
  const own = await context.newPage();
  await own.goto(`http://127.0.0.1:${server.port}/frame.html`);
  await until(async () => (await panels()) === 1, 'the same-origin framed panel to connect');
  await own.close();
  await until(async () => (await panels()) === 0, 'the framed panel to go');

  const page = await open('frame.evil.test', '/frame.html', `<!doctype html>
    <iframe id="f" src="http://127.0.0.1:PORT/_mirrorstate/" width="900" height="500" onload="window.loaded = true"></iframe>`);
  await page.waitForFunction(() => window.loaded === true, null, { timeout: WAIT });
  const child = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(child, 'the iframe exists');
  assert.doesNotMatch(child.url(), /^http:\/\/127\.0\.0\.1/, 'the panel did not load in the foreign frame');
  await sleep(1000); // a panel that did load would connect within this
  assert.equal(await panels(), 0, 'no panel connected from the foreign frame');
  await page.close();
});

test('a page of another allowed origin imports client.js cross-origin and mirrors the state; a foreign one cannot', async () => {
  const script = `<!doctype html><script type="module">
    window.result = (async () => {
      try {
        const { connect } = await import('http://127.0.0.1:PORT/_mirrorstate/client.js');
        const state = connect().state('state');
        await state.ready;
        const read = state.get();
        state.update((d) => { d.n = 2; });
        await state.settled();
        return { ok: true, read };
      } catch (e) {
        return { ok: false, why: String(e && e.message || e) };
      }
    })();
  </script>`;
  const evil = await open('dev.evil.test', '/import.html', script);
  const refused = await result(evil);
  assert.equal(refused.ok, false, JSON.stringify(refused));
  await evil.close();
  fileUnchanged();

  const page = await open('localhost', '/import.html', script);
  const r = await result(page);
  assert.deepEqual(r, { ok: true, read: STATE });
  await until(() => readJSON(file)?.n === 2, 'the write from the other port to reach the file');
  fs.writeFileSync(file, pretty(STATE));
  await page.close();
});
