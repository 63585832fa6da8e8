// A protocol client over a real WebSocket (the `ws` package): waits for the
// hello, subscribes, sends and awaits answers by ref, keeps every message it
// receives in a queue that tests consume with next(), and keeps a replica
// of each subscribed state from the snapshot, the patches and its own acks.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { QUIET, SUBPROTOCOL, WAIT, WS_PATH } from './env.mjs';
import { applyPatch, describe, matches } from './json.mjs';
import { sleep } from './wait.mjs';

export class Client {
  /**
   * ws: an open (or opening) WebSocket. With keep: false (the benchmark)
   * nothing is stored: next() sees only messages that arrive while it
   * waits, and there are no replicas.
   */
  constructor(ws, label, { keep = true } = {}) {
    this.ws = ws;
    this.label = label;
    this.keep = keep;
    this.queue = [];   // not yet consumed by next()
    this.log = [];     // everything received, for diagnostics
    this.waiters = new Set();
    this.replicas = new Map();
    this.pending = new Map();
    this.refSeq = 1;
    this.closeInfo = null;
    /** Called with (message, raw data) for every message, after next(). */
    this.onmessage = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of [...this.waiters]) w();
      });
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        msg = { __raw: data.toString(), __binary: isBinary };
      }
      if (keep) {
        this.log.push(msg);
        this.#track(msg);
      }
      this.queue.push(msg);
      for (const w of [...this.waiters]) w();
      if (!keep) this.queue.length = 0;
      this.onmessage?.(msg, data);
    });
  }

  #track(m) {
    if (!m || typeof m !== 'object' || !this.replicas.has(m.name)) return;
    const r = this.replicas.get(m.name);
    try {
      if (m.type === 'snapshot') {
        r.version = m.version;
        r.state = m.exists === false ? undefined : structuredClone(m.state);
        r.error = undefined;
      } else if (m.type === 'patch') {
        r.version = m.version;
        r.state = applyPatch(r.state, m.ops);
      } else if (m.type === 'ack' && this.pending.has(JSON.stringify(m.ref))) {
        const change = this.pending.get(JSON.stringify(m.ref));
        this.pending.delete(JSON.stringify(m.ref));
        if (m.version !== r.version) r.state = change.ops ? applyPatch(r.state, change.ops) : structuredClone(change.state);
        r.version = m.version;
      }
    } catch (e) {
      // The client's view broke (a patch that does not apply to it): keep a
      // marker that never equals a real state, so waits on it fail loudly.
      r.state = { __replicaError: `${e.message} applying ${JSON.stringify(m)}` };
    }
  }

  get id() { return this.hello?.client; }
  get origin() { return `client:${this.hello?.client}`; }

  history(last = 40) {
    const clip = (t) => (t.length > 400 ? t.slice(0, 400) + `…(${t.length} chars)` : t);
    const lines = this.log.slice(-last).map((m) => clip(JSON.stringify(m)));
    if (this.log.length > last) lines.unshift(`…(${this.log.length - last} earlier messages)`);
    return lines.join('\n');
  }

  /** Waits until the connection is closed; resolves {code, reason}. */
  async waitClosed(timeout = WAIT) {
    let timer;
    const r = await Promise.race([this.closed, new Promise((res) => { timer = setTimeout(() => res(null), timeout); })]);
    clearTimeout(timer);
    if (!r) throw new Error(`[${this.label}] not closed within ${timeout} ms; received:\n${this.history()}`);
    return r;
  }

  /** Waits for (and consumes) the first queued message matching `pred`, a
   * pattern for matches() or a predicate. */
  next(pred = () => true, timeout = WAIT) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.queue.findIndex((m) => matches(m, pred));
        if (i >= 0) {
          done();
          resolve(this.queue.splice(i, 1)[0]);
        } else if (this.closeInfo) {
          done();
          reject(new Error(`[${this.label}] connection closed (${JSON.stringify(this.closeInfo)}) while waiting for ${describe(pred)}; received:\n${this.history()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`[${this.label}] timed out after ${timeout} ms waiting for ${describe(pred)}; received:\n${this.history()}`));
      }, timeout);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Asserts that no message matching `pred` is queued or arrives within `ms`. */
  async expectNone(pred, ms = QUIET) {
    const found = () => this.queue.find((m) => matches(m, pred));
    if (!found()) await sleep(ms);
    const m = found();
    assert.equal(m, undefined, `[${this.label}] unexpected message ${JSON.stringify(m)} (matching ${describe(pred)}); received:\n${this.history()}`);
  }

  /** All queued messages matching `pred`, consumed. */
  take(pred) {
    const out = [];
    this.queue = this.queue.filter((m) => (matches(m, pred) ? (out.push(m), false) : true));
    return out;
  }

  send(obj) { this.ws.send(JSON.stringify(obj)); }
  sendRaw(text) { this.ws.send(text); }

  /** Sends msg with a ref (its own, or a fresh one) and resolves with the
   * first message that answers it: the one carrying that ref. */
  ask(msg, timeout = WAIT) {
    const ref = msg.ref !== undefined ? msg.ref : `${this.label}-${this.refSeq++}`;
    const answer = this.next((m) => m !== null && typeof m === 'object' && matches(m.ref, ref), timeout);
    this.send({ ...msg, ref });
    return answer;
  }

  /** Subscribes and waits for the answering snapshot. */
  async subscribe(name, init, timeout = WAIT) {
    if (this.keep && !this.replicas.has(name)) this.replicas.set(name, { version: undefined, state: undefined });
    const msg = { type: 'subscribe', name };
    if (init !== undefined) msg.init = init;
    const snapshot = this.next({ type: 'snapshot', name }, timeout);
    this.send(msg);
    return snapshot;
  }

  /** The client's view of a subscribed state (snapshot + patches + own acks). */
  replica(name) { return this.replicas.get(name); }

  /** Sends a patch; returns its ref. */
  patch(name, ops, { base, ref } = {}) {
    if (ref === undefined) ref = `${this.label}-${this.refSeq++}`;
    this.pending.set(JSON.stringify(ref), { ops });
    const msg = { type: 'patch', name, ops, ref };
    if (base !== undefined) msg.base = base;
    this.send(msg);
    return ref;
  }

  /** Sends a set (whole replacement); returns its ref. */
  set(name, state, { base, ref } = {}) {
    if (ref === undefined) ref = `${this.label}-${this.refSeq++}`;
    this.pending.set(JSON.stringify(ref), { state });
    const msg = { type: 'set', name, state, ref };
    if (base !== undefined) msg.base = base;
    this.send(msg);
    return ref;
  }

  /** Sends a patch and waits for its ack (fails on an error with its ref). */
  async patchAcked(name, ops, opts = {}) {
    const ref = this.patch(name, ops, opts);
    const m = await this.next((x) => (x.type === 'ack' || x.type === 'error') && matches(x.ref, ref));
    assert.equal(m.type, 'ack', `patch ${JSON.stringify(ops)} was not acked: ${JSON.stringify(m)}`);
    return m;
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/**
 * Tries a WebSocket upgrade to srv (anything with a port). Resolves
 * {status: 101, client} on success (after the hello unless waitHello is
 * false), or {status, body} when the server refused it. identify: fields of
 * an identify message sent as soon as the socket opens; keep: see Client;
 * ws: more options for the `ws` package (perMessageDeflate, maxPayload).
 */
export function tryConnect(srv, {
  path: p = WS_PATH, origin, headers, protocol = SUBPROTOCOL, label = 'client', waitHello = true,
  identify, keep = true, timeout = WAIT, ws: wsOptions = {},
} = {}) {
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${srv.port}${p}`;
    const ws = new WebSocket(url, protocol ? [protocol] : [], { origin, headers, handshakeTimeout: timeout, maxPayload: 256 * 1024 * 1024, ...wsOptions });
    const c = new Client(ws, label, { keep });
    let settled = false;
    const finish = (fn, v) => { if (!settled) { settled = true; fn(v); } };
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => finish(resolve, { status: res.statusCode, body }));
      res.on('error', () => finish(resolve, { status: res.statusCode, body }));
      setTimeout(() => { finish(resolve, { status: res.statusCode, body }); req.destroy(); }, 1000);
    });
    ws.on('error', (e) => finish(reject, new Error(`[${label}] WebSocket error: ${e.message}${srv.stderrTail ? `\nserver stderr:\n${srv.stderrTail()}` : ''}`)));
    ws.on('open', async () => {
      if (identify) c.send({ type: 'identify', ...identify });
      if (!waitHello) return finish(resolve, { status: 101, client: c });
      try {
        c.hello = await c.next({ type: 'hello' }, timeout);
        finish(resolve, { status: 101, client: c });
      } catch (e) {
        finish(reject, e);
      }
    });
  });
}

/** tryConnect, asserting that the upgrade succeeded; resolves the Client. */
export async function connect(srv, opts = {}) {
  const label = opts.label || 'client';
  const r = await tryConnect(srv, { ...opts, label });
  assert.equal(r.status, 101, `[${label}] upgrade refused with HTTP ${r.status}: ${r.body}`);
  return r.client;
}
