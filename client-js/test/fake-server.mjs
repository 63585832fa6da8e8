// An in-process stand-in for the MirrorState server, speaking protocol v1
// over fake sockets, for unit tests of the client core. It follows
// docs/protocol.md: patches apply in arrival order whatever their base,
// failures answer `conflict` then a `snapshot`, others get the patch; a
// `strict` patch is refused as a `conflict` when another sender changed an
// overlapping path after its base; every error caused by a message carries
// its `ref` and `name`; `applied` and `page_error` are recorded, and page
// errors are relayed to `panel` connections.

import { applyPatch, diff, PatchError } from '../src/patch.js';
import { changedPaths, touchedPaths, overlaps } from '../src/state.js';
import { until as waitUntil } from '../../tests/lib/wait.mjs';

// Like the real server, strings holding U+0000 are refused as bad_message.
const hasNul = (v) => (typeof v === 'string' ? v.includes('\u0000')
  : v && typeof v === 'object' ? Object.values(v).some(hasNul) : false);

let sessions = 0;

export class FakeServer {
  constructor(states = {}) {
    this.states = new Map(Object.entries(states).map(([k, v]) => [k, { value: v, version: 1, log: [] }]));
    this.names = null;    // when set, the names that may be subscribed (others: unknown_state)
    this.token = null;    // when set, connections must carry ?token=
    this.pageErrors = []; // page_error messages received
    this.session = `s${++sessions}`;
    this.sockets = new Set();
    this.received = [];   // every client message, parsed, with its socket id
    this.hold = false;    // when true, server->client messages wait for deliver()
    this.holdIncoming = false; // when true, client->server messages wait for process()
    this.down = false;    // refuse connections
    this._clients = 0;
    this._inbox = [];
    const server = this;
    this.WebSocket = class FakeWebSocket {
      constructor(url, protocol) {
        this.url = url;
        this.token = new URL(url).searchParams.get('token');
        this.protocol = protocol;
        this.readyState = 0;
        this.outbox = [];
        this.server = server;
        queueMicrotask(() => server._accept(this));
      }
      send(data) {
        if (this.readyState !== 1) throw new Error('send on a socket that is not open');
        const msg = JSON.parse(data);
        server.received.push({ from: this.id, ...msg });
        if (server.holdIncoming) server._inbox.push([this, msg]);
        else queueMicrotask(() => server._handle(this, msg));
      }
      close() { server._drop(this); }
    };
  }

  /** A fetch() for the client's diagnosis of a refused connection. */
  get fetch() {
    return async (url) => {
      if (this.down) throw new TypeError('fetch failed');
      const ok = !this.token || new URL(url).searchParams.get('token') === this.token;
      const body = ok ? { states: [] } : { type: 'error', code: 'forbidden', message: 'missing or wrong token' };
      return { status: ok ? 200 : 403, json: async () => body };
    };
  }

  _accept(ws) {
    if (this.down || (this.token && ws.token !== this.token)) {
      ws.readyState = 3;
      ws.onclose?.({ code: 1006 });
      return;
    }
    ws.id = `c${++this._clients}`;
    ws.role = 'app';
    ws.subs = new Set();
    ws.readyState = 1;
    this.sockets.add(ws);
    ws.onopen?.({});
    this._clientsChanged();
    this._to(ws, { type: 'hello', protocol: 1, server: 'fake/0', session: this.session, client: ws.id, states: [...this.states.keys()] });
  }

  _drop(ws) {
    if (!this.sockets.has(ws)) return;
    this.sockets.delete(ws);
    ws.readyState = 3;
    ws.outbox = [];
    this._clientsChanged();
    queueMicrotask(() => ws.onclose?.({ code: 1006 }));
  }

  _to(ws, msg) {
    if (this.hold) ws.outbox.push(msg);
    else queueMicrotask(() => { if (ws.readyState === 1) ws.onmessage?.({ data: JSON.stringify(msg) }); });
  }

  /** Delivers held server->client messages. */
  deliver() {
    for (const ws of this.sockets) {
      const out = ws.outbox;
      ws.outbox = [];
      for (const msg of out) if (ws.readyState === 1) ws.onmessage?.({ data: JSON.stringify(msg) });
    }
  }

  /** Processes held client->server messages. */
  process() {
    const inbox = this._inbox;
    this._inbox = [];
    for (const [ws, msg] of inbox) if (ws.readyState === 1) this._handle(ws, msg);
  }

  _broadcast(name, except, msg) {
    for (const ws of this.sockets) if (ws !== except && ws.subs.has(name)) this._to(ws, msg);
  }

  _snapshot(ws, name) {
    const st = this.states.get(name);
    if (!st) this._to(ws, { type: 'snapshot', name, version: 0, exists: false });
    else this._to(ws, { type: 'snapshot', name, version: st.version, state: st.value });
  }

  _error(ws, code, message, msg) {
    const e = { type: 'error', code, message };
    if (typeof msg.name === 'string') e.name = msg.name;
    if (msg.ref !== undefined) e.ref = msg.ref;
    this._to(ws, e);
  }

  _withRef(msg, ref) { return ref === undefined ? msg : { ...msg, ref }; }

  _clientsMsg() {
    return { type: 'clients', clients: [...this.sockets].map((w) => ({ id: w.id, role: w.role, page: w.page, subscriptions: [...w.subs] })) };
  }

  _clientsChanged() {
    for (const p of this.sockets) if (p.role === 'panel') this._to(p, this._clientsMsg());
  }

  _origin(ws) { return ws.role === 'panel' ? 'panel' : `client:${ws.id}`; }

  _handle(ws, msg) {
    if (!this.sockets.has(ws)) return;
    const { name, ref } = msg;
    if (typeof name === 'string' && this.names && !this.names.includes(name) && !this.states.has(name)) {
      return this._error(ws, 'unknown_state', `"${name}" is not a mirrored state`, msg);
    }
    if (this.refuse) {
      const code = this.refuse(msg);
      if (code) return this._error(ws, code, `refused by the test (${code})`, msg);
    }
    switch (msg.type) {
      case 'identify':
        ws.role = msg.role || 'app';
        ws.page = msg.page;
        this._clientsChanged();
        return;
      case 'states':
        return this._to(ws, this._withRef({ type: 'states', states: [...this.states].map(([n, st]) => ({ name: n, file: `/fake/${n}.json`, version: st.version, exists: true, status: 'ok' })) }, ref));
      case 'clients':
        return this._to(ws, this._withRef(this._clientsMsg(), ref));
      case 'history':
        return this._to(ws, this._withRef({ type: 'history', name, version: this.states.get(name)?.version ?? 0, entries: [] }, ref));
      case 'applied':
        ws.applied = { ...(ws.applied || {}), [name]: msg.version };
        return;
      case 'page_error': {
        const relayed = { ...msg, client: ws.id };
        this.pageErrors.push(relayed);
        for (const p of this.sockets) if (p.role === 'panel') this._to(p, relayed);
        return;
      }
      case 'subscribe':
        ws.subs.add(name);
        if (!this.states.has(name) && msg.init !== undefined) this.states.set(name, { value: msg.init, version: 1, log: [] });
        this._snapshot(ws, name);
        return;
      case 'patch':
      case 'set': {
        if (hasNul(msg.state) || hasNul(msg.ops)) {
          return this._error(ws, 'bad_message', 'not JSON: \\u0000 in a string is not supported', msg);
        }
        const st = this.states.get(name);
        let ops = msg.ops;
        if (msg.type === 'set') ops = st ? diff(st.value, msg.state) : [{ op: 'replace', path: '', value: msg.state }];
        else if (!st) return this._conflict(ws, name, ref, 'state does not exist');
        if (msg.strict && st && typeof msg.base === 'number') {
          const mine = touchedPaths(ops);
          const origin = this._origin(ws);
          const stale = st.log.find((e) => e.version > msg.base && e.origin !== origin &&
            e.paths.some((p) => mine.some((q) => overlaps(p, q))));
          if (stale) {
            this.conflicts = (this.conflicts || 0) + 1;
            return this._conflict(ws, name, ref, `stale: v${stale.version} changed ${stale.paths[0]}`);
          }
        }
        let next;
        try {
          next = applyPatch(st ? st.value : undefined, ops);
        } catch (e) {
          if (e instanceof PatchError && e.code === 'invalid_patch') {
            return this._to(ws, { type: 'error', code: 'invalid_patch', message: e.message, name, ref });
          }
          return this._conflict(ws, name, ref, e.message);
        }
        if (ops.length === 0) return this._to(ws, { type: 'ack', name, ref, version: st ? st.version : 0 });
        this.apply(name, ops, this._origin(ws), next, ws);
        this._to(ws, { type: 'ack', name, ref, version: this.states.get(name).version });
        return;
      }
      default:
        this._error(ws, 'bad_message', `unknown message type ${JSON.stringify(msg.type)}`, msg);
    }
  }

  _conflict(ws, name, ref, message) {
    this._to(ws, { type: 'error', code: 'conflict', message, name, ref });
    this._snapshot(ws, name);
  }

  /** Applies a change as if made by `origin` and broadcasts it. */
  apply(name, ops, origin = 'file', next = undefined, except = null) {
    const st = this.states.get(name) || { value: undefined, version: 0, log: [] };
    st.value = next === undefined ? applyPatch(st.value, ops) : next;
    st.version++;
    st.log.push({ version: st.version, origin, paths: changedPaths(ops) });
    this.states.set(name, st);
    this._broadcast(name, except, { type: 'patch', name, version: st.version, ops, origin });
  }

  /** Broadcasts an error message to the subscribers of a state. */
  error(name, code, extra = {}) {
    this._broadcast(name, null, { type: 'error', code, message: code, name, ...extra });
  }

  /** Drops every connection. */
  dropAll() { for (const ws of [...this.sockets]) this._drop(ws); }

  /** Simulates a restart: drop everyone, new session, versions from 1. */
  restart() {
    this.dropAll();
    this.session = `s${++sessions}`;
    for (const st of this.states.values()) { st.version = 1; st.log = []; }
  }

  value(name) { return this.states.get(name)?.value; }
}

/** Lets queued microtasks and timers of zero delay run. */
export async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Waits until cond() is true, checking every few ms, at most `ms`
 * (tests/lib's until() with this file's argument order). */
export const until = (cond, ms = 3000, what = 'condition') => waitUntil(cond, what, ms, { interval: 5 });
