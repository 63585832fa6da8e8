// HTTP to a server (anything with a port, on 127.0.0.1): request() through
// node's http module, and raw() for requests node would refuse or
// normalise (repeated headers, empty values, odd bytes). Every request is
// bounded.

import http from 'node:http';
import net from 'node:net';
import { SUBPROTOCOL, WAIT, WS_PATH } from './env.mjs';

/**
 * One request on its own connection (no test depends on keep-alive reuse).
 * body: a Buffer (sent as is), a string (as UTF-8) or a value (as JSON),
 * with a Content-Length as fetch() and curl send it. Resolves {status, headers, body, json}.
 */
export function request(srv, p, { method = 'GET', headers = {}, body, timeout = WAIT } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined
      : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const hdrs = { ...headers };
    if (data && !Object.keys(hdrs).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) hdrs['Content-Length'] = data.length;
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: p, method, headers: hdrs, timeout, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP ${method} ${p} timed out`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/**
 * Sends `METHOD path HTTP/1.1` with exactly the given header lines, e.g.
 * ['Host: localhost', 'Origin: null'], and `Connection: close`. Resolves
 * {status, headers, body, json}; headers maps lower-case names to a value,
 * or an array when repeated. A connection dropped without an answer
 * resolves with status 0.
 */
export function raw(srv, path, lines = ['Host: localhost'], { method = 'GET', body, timeout = WAIT } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(parse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      sock.destroy();
      reject(new Error(`raw ${method} ${path}: no complete answer within ${timeout} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`));
    }, timeout);
    const extra = body === undefined ? [] : [`Content-Length: ${Buffer.byteLength(body)}`];
    const head = [`${method} ${path} HTTP/1.1`, ...lines, ...extra, 'Connection: close', '', ''].join('\r\n');
    sock.on('connect', () => sock.write(body === undefined ? head : head + body));
    sock.on('data', (d) => {
      chunks.push(d);
      const r = parse(Buffer.concat(chunks));
      if (r.complete) finish();
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
  });
}

/** raw() opening handshake of a WebSocket with the given extra header lines. */
export function rawUpgrade(srv, lines, path = WS_PATH) {
  return raw(srv, path, [
    ...lines,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Protocol: ${SUBPROTOCOL}`,
  ]);
}

function parse(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', complete: false };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    if (k in headers) headers[k] = [].concat(headers[k], v);
    else headers[k] = v;
  }
  const bodyBuf = buf.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  const status = m ? Number(m[1]) : 0;
  const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : null;
  const complete = status === 101 || (len !== null && bodyBuf.length >= len);
  const body = bodyBuf.toString('utf8');
  let json;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status, headers, body, json, complete };
}
