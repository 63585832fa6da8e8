// The panel under its Content-Security-Policy: it still works, it reports
// its page without the query (no ?token= in client lists), and the DevTools
// extension still shows it inside DevTools (frame-ancestors allows the
// chrome-extension: page and the devtools: page above it, nothing else).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';

import {
  ROOT, WAIT, WS_PATH, connect, pretty, removeDir, sleep, startServer, stopServer, tempDir, until,
} from '../lib/index.mjs';
import { launchBrowser, watchErrors } from '../lib/browser.mjs';

const TOKEN = 'devtools-test-token-42';
const EXT = path.join(ROOT, 'client-js', 'devtools-extension');

let tmp, file, server;

before(async () => {
  tmp = tempDir('ms-devtools-');
  file = path.join(tmp, 'state.json');
  fs.writeFileSync(file, pretty({ a: 1 }));
  server = await startServer({ files: [file], args: ['--token', TOKEN] });
});

after(async () => {
  await stopServer(server);
  removeDir(tmp);
});

async function panelClients() {
  const spy = await connect(server, { label: 'spy', path: `${WS_PATH}?token=${TOKEN}` });
  try {
    return (await spy.ask({ type: 'clients' })).clients.filter((c) => c.role === 'panel');
  } finally {
    spy.close();
  }
}

test('the panel works under its CSP and reports its page without ?token=', async () => {
  const { context, close } = await launchBrowser();
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}?token=${TOKEN}#state`);
    await page.locator('#conn[data-state=open]').waitFor();
    await page.locator('#tree .row[data-path="/a"]').waitFor();
    const panels = await until(async () => { const p = await panelClients(); return p.length ? p : null; }, 'the panel in the client list');
    assert.equal(panels[0].page, server.url);
    assert.doesNotMatch(JSON.stringify(panels), new RegExp(TOKEN));
    assert.deepEqual(errors.filter((e) => /Content.Security.Policy|Refused/i.test(e)), []);
  } finally {
    await close();
  }
});

// Chromium's id of an unpacked extension: its path's SHA-256, a-p for 0-f.
const extensionId = (dir) => [...crypto.createHash('sha256').update(dir).digest('hex').slice(0, 32)]
  .map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');

/** A minimal CDP client on one target's WebSocket. */
async function cdp(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  let n = 0;
  const pending = new Map();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
  });
  const evaluate = (expression) => new Promise((resolve, reject) => {
    const id = ++n;
    const timer = setTimeout(() => reject(new Error(`CDP evaluate timed out: ${expression.slice(0, 80)}`)), WAIT);
    pending.set(id, (m) => {
      clearTimeout(timer);
      if (m.error || m.result?.exceptionDetails) reject(new Error(JSON.stringify(m.error || m.result.exceptionDetails)));
      else resolve(m.result.result.value);
    });
    ws.send(JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, awaitPromise: true, returnByValue: true } }));
  });
  return { evaluate, close: () => ws.terminate() };
}

test('the DevTools extension shows the panel inside DevTools', async () => {
  const id = extensionId(EXT);
  const { close, profile } = await launchBrowser({
    ignoreDefaultArgs: ['--disable-extensions'],
    extraArgs: [`--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`, '--auto-open-devtools-for-tabs', '--remote-debugging-port=0'],
  });
  const sessions = [];
  try {
    const port = await until(() => {
      try { return fs.readFileSync(path.join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0]; } catch { return null; }
    }, 'the DevTools port');
    const targets = async () => (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const frontend = await until(async () => (await targets()).find((t) => t.url.startsWith('devtools://')), 'DevTools to open');
    const devtools = await cdp(frontend.webSocketDebuggerUrl);
    sessions.push(devtools);
    // Show the extension's panel (DevTools creates its page when shown).
    const shown = await until(() => devtools.evaluate(`(async () => {
      const UI = await import('./ui/legacy/legacy.js');
      const view = UI.InspectorView.InspectorView.instance();
      const tab = view.tabbedPane.tabIds().find((t) => t.startsWith('chrome-extension://${id}'));
      if (!tab) return null;
      await view.showPanel(tab);
      return tab;
    })()`).catch(() => null), 'the MirrorState panel in DevTools');
    assert.match(shown, /MirrorState/);
    const host = await until(async () => (await targets()).find((t) => t.url === `chrome-extension://${id}/panel.html`), 'the extension panel page');
    const ext = await cdp(host.webSocketDebuggerUrl);
    sessions.push(ext);
    await until(() => ext.evaluate(`document.readyState === 'complete'`), 'the extension panel to load');
    await ext.evaluate(`(() => {
      document.getElementById('url').value = ${JSON.stringify(`${server.url}?token=${TOKEN}`)};
      document.getElementById('bar').requestSubmit();
      return true;
    })()`);
    // The server's panel, framed by chrome-extension: inside devtools:,
    // loads and connects.
    const panels = await until(async () => { const p = await panelClients(); return p.length ? p : null; }, 'the panel inside DevTools to connect');
    assert.equal(panels[0].page, server.url);
    const framed = (await targets()).find((t) => t.url.startsWith(server.url));
    assert.ok(framed, 'the framed panel is a target of its own');
  } finally {
    for (const s of sessions) s.close();
    await close();
    await sleep(100);
  }
});
