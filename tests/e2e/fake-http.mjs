// The client library's fake server (client-js/test/fake-server.mjs) behind
// a real HTTP + WebSocket server, for browser tests of protocol behaviour the
// real server does not have yet or that a test must control: the same URL
// space as `mirrorstate serve --static DIR` (/_mirrorstate/ws, the client
// modules at /_mirrorstate/*.js, the panel at /_mirrorstate/, DIR at /).
// Binds 127.0.0.1 on a free port.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { FakeServer } from '../../client-js/test/fake-server.mjs';
import { ROOT } from '../lib/index.mjs';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };
const SRC = path.join(ROOT, 'client-js', 'src');
const PANEL = path.join(ROOT, 'client-js', 'panel');

function fileFor(urlPath, staticDir) {
  if (urlPath === '/_mirrorstate/') return path.join(PANEL, 'index.html');
  if (urlPath.startsWith('/_mirrorstate/panel/')) return path.join(PANEL, urlPath.slice('/_mirrorstate/panel/'.length));
  if (urlPath.startsWith('/_mirrorstate/')) return path.join(SRC, urlPath.slice('/_mirrorstate/'.length));
  if (!staticDir) return null;
  return path.join(staticDir, urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath);
}

/** Starts a fake server holding `states`, serving `staticDir` at /.
 * Resolves with { fake, base, url, port, close() }; `fake` is the
 * FakeServer (its states, received messages, pageErrors, hold...). */
export function startFake(states, { staticDir } = {}) {
  const fake = new FakeServer(states);
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = fileFor(urlPath, staticDir);
    const root = file && [SRC, PANEL, staticDir].find((r) => r && file.startsWith(r + path.sep));
    if (!file || !root || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    let body = fs.readFileSync(file);
    // As the server's packed assets do (cmake/pack_assets.cmake): the
    // panel's imports of the client by package name point beside it.
    if (root === PANEL && file.endsWith('.js')) {
      body = String(body)
        .replaceAll("from 'mirrorstate-client/patch'", "from '../patch.js'")
        .replaceAll("from 'mirrorstate-client'", "from '../client.js'");
    }
    res.end(body);
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('mirrorstate.v1') ? 'mirrorstate.v1' : false) });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url, 'http://x').pathname !== '/_mirrorstate/ws') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (real) => {
      // A FakeServer socket whose two ends are the real WebSocket.
      const sock = new fake.WebSocket(`ws://127.0.0.1${req.url}`, 'mirrorstate.v1');
      const early = [];
      sock.onopen = () => { for (const m of early.splice(0)) sock.send(m); };
      sock.onmessage = (ev) => { if (real.readyState === 1) real.send(ev.data); };
      sock.onclose = () => real.close();
      real.on('message', (d) => {
        if (sock.readyState === 1) sock.send(String(d));
        else early.push(String(d));
      });
      real.on('close', () => sock.close());
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        fake,
        port,
        base: `http://127.0.0.1:${port}/`,
        url: `http://127.0.0.1:${port}/_mirrorstate/`,
        close: () => new Promise((done) => {
          for (const c of wss.clients) c.terminate();
          server.close(() => done());
          server.closeAllConnections?.();
        }),
      });
    });
  });
}
