// The MirrorState client: one WebSocket per Mirror, any number of named
// states on it, optimistic local changes rebased under the server's.
//
// Per state the client keeps the last state the server confirmed (with its
// version) and an ordered list of pending batches of ops: the local changes
// the server has not acknowledged yet. What the app sees is always
// `confirmed + pending`. An incoming patch moves `confirmed` forward and the
// pending batches are re-applied on top (those that no longer apply are left
// out of the view; the server will reject them and they are salvaged op by
// op). An `ack` moves the acknowledged batch into `confirmed`. On a conflict,
// a reconnect or a server restart the fresh snapshot becomes `confirmed` and
// every pending batch is re-applied and re-sent: nothing the user did is
// dropped unless it no longer applies to anything.

import { applyOp, applyPatch, deepEqual, getPointer } from './patch.js';
import { produce } from './draft.js';

export const PROTOCOL = 'mirrorstate.v1';

/** Derives the WebSocket URL from the URL this module was served from
 * (http://host:port/_mirrorstate/client.js -> ws://host:port/_mirrorstate/ws).
 * A module that was bundled or copied elsewhere falls back to port 7420 of
 * the page's host. */
export function defaultUrl(moduleUrl, loc = globalThis.location) {
  try {
    const u = new URL(moduleUrl);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && /\/_mirrorstate\/[^/]*$/.test(u.pathname)) {
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      u.pathname = u.pathname.replace(/[^/]*$/, 'ws');
      u.search = '';
      u.hash = '';
      return u.href;
    }
  } catch { /* not a URL: fall through */ }
  if (loc && loc.hostname) {
    const host = loc.hostname.includes(':') ? `[${loc.hostname}]` : loc.hostname;
    return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${host}:7420/_mirrorstate/ws`;
  }
  throw new Error('mirrorstate: no url given, and none can be derived here; pass connect({ url })');
}

class Emitter {
  constructor() { this._handlers = new Map(); }
  /** Adds a listener; returns the function that removes it. */
  on(type, fn) {
    let set = this._handlers.get(type);
    if (!set) this._handlers.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }
  off(type, fn) { this._handlers.get(type)?.delete(fn); }
  _emit(type, arg) {
    const set = this._handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(arg); } catch (e) { reportError(e); }
    }
  }
}

function reportError(e) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else setTimeout(() => { throw e; });
}

// Errors that describe the state's file rather than one change.
const FILE_ERRORS = new Set(['file_invalid', 'file_removed', 'write_failed']);
// Errors after which the server will never accept the change as sent.
const FINAL_ERRORS = new Set(['invalid_patch', 'too_large', 'forbidden', 'bad_message', 'unknown_state']);

const hasTest = (ops) => ops.some((op) => op.op === 'test');

// Applies a batch atomically if it can; otherwise, unless it carries a
// `test` (a compare-and-set that must not be split), every op that still
// applies. Returns [newValue, appliedOps].
function applyBestEffort(value, ops) {
  try {
    return [applyPatch(value, ops), ops];
  } catch {
    if (hasTest(ops)) return [value, []];
    const kept = [];
    for (const op of ops) {
      try {
        value = applyOp(value, op);
        kept.push(op);
      } catch { /* no longer applies: left out */ }
    }
    return [value, kept];
  }
}

const countEqual = (arr, v) => (Array.isArray(arr) ? arr.filter((x) => deepEqual(x, v)).length : 0);

// Whether a batch that was in flight when the connection dropped is already
// part of the fresh snapshot (the server applied it but its ack was lost).
// Ops that set a value are there if applying them changes nothing; an append
// is there if the array holds more equal elements than it did before.
function alreadyApplied(snapshot, before, ops) {
  for (const op of ops) {
    if (op.op === 'add' && op.path.endsWith('/-')) {
      const arr = op.path.slice(0, -2);
      if (countEqual(getPointer(snapshot, arr), op.value) <= countEqual(getPointer(before, arr), op.value)) return false;
      continue;
    }
    if (op.op === 'test') continue;
    try {
      if (!deepEqual(applyOp(snapshot, op), snapshot)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** One named state mirrored from the server. Get it with mirror.state(). */
export class State extends Emitter {
  constructor(mirror, name, options = {}) {
    super();
    this.name = name;
    this._mirror = mirror;
    this._hasInitial = options.initial !== undefined;
    this._initial = options.initial;
    this._confirmed = options.initial;
    this._version = 0;
    this._exists = false;
    this._loaded = false;   // a snapshot arrived at least once
    this._synced = false;   // a snapshot arrived on the current connection
    this._pending = [];     // [{ ref, ops, sent, conn, rejected }]
    this._open = null;      // the batch collecting this tick's changes
    this._value = options.initial;
    this._subs = new Set();
    this._settleWaiters = [];
    this.error = null;
    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
    // Bound so they can be handed around (React's useSyncExternalStore).
    this.get = this.get.bind(this);
    this.subscribe = this.subscribe.bind(this);
    this.set = this.set.bind(this);
    this.update = this.update.bind(this);
    this.patch = this.patch.bind(this);
  }

  /** The current value: the server's state with this client's unconfirmed
   * changes applied. Treat it as immutable. */
  get() { return this._value; }
  /** The last version confirmed by the server (0: none yet / absent). */
  get version() { return this._version; }
  /** Whether the state exists on the server (false until the first snapshot). */
  get exists() { return this._exists; }
  /** Whether a snapshot has arrived at least once. */
  get loaded() { return this._loaded; }
  /** Number of local change batches not yet confirmed by the server. */
  get pending() { return this._pending.length; }

  /** Calls fn(value) after every change of value; equal values do not
   * notify. Returns the unsubscribe function. */
  subscribe(fn) {
    const entry = (v) => fn(v);
    this._subs.add(entry);
    return () => this._subs.delete(entry);
  }

  /** Replaces the whole value. Sent as the minimal patch from the current
   * value, so concurrent changes to other keys are kept. */
  set(value) {
    this.update(() => (value === undefined ? null : value));
  }

  /** Changes the value through a mutable draft (`d => { d.count++ }`), or
   * with a function returning the new value (`v => v + 1`). Applies at once
   * and sends the change with the others of this tick. */
  update(recipe) {
    if (this._mirror._closed) throw new Error('mirrorstate: the mirror is closed');
    const { value, ops } = produce(this._value, recipe);
    this._change(value, ops);
  }

  /** Applies raw JSON Patch ops (e.g. a `test` op then a `replace`, for a
   * strict compare-and-set). Throws PatchError if they do not apply locally.
   * A batch holding a `test` op is never split: if it fails on the server it
   * is dropped whole. */
  patch(ops) {
    if (this._mirror._closed) throw new Error('mirrorstate: the mirror is closed');
    const value = applyPatch(this._value, ops);
    this._change(value, ops.map((op) => ({ ...op })));
  }

  _change(value, ops) {
    if (ops.length === 0) return;
    if (!this._open) {
      this._open = { ref: this._mirror._nextRef(), ops: [], sent: false, conn: 0, rejected: false };
      this._pending.push(this._open);
      queueMicrotask(() => this._flush());
    }
    this._open.ops.push(...ops);
    this._setValue(value);
  }

  /** Resolves once every change made so far is confirmed by the server (or
   * was rejected and dropped). */
  settled() {
    if (this._pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this._settleWaiters.push(resolve));
  }

  // --- internals -------------------------------------------------------

  _setValue(v) {
    if (v === this._value || deepEqual(v, this._value)) return;
    this._value = v;
    for (const fn of [...this._subs]) {
      try { fn(v); } catch (e) { reportError(e); }
    }
    this._emit('change', v);
  }

  _setError(err) {
    if (err === this.error) return;
    this.error = err;
    this._emit('error', err);
  }

  _flush() {
    this._open = null;
    this._sendPending();
  }

  _sendPending() {
    const m = this._mirror;
    if (!this._synced || !m._ready()) return;
    for (const b of this._pending) {
      if (b.sent || b === this._open || b.ops.length === 0) continue;
      const root = b.ops[0];
      let msg;
      if (!this._exists && root.path === '' && (root.op === 'replace' || root.op === 'add')) {
        // The state does not exist on the server: a patch would conflict.
        msg = { type: 'set', name: this.name, base: this._version, state: applyPatch(undefined, b.ops), ref: b.ref };
      } else {
        msg = { type: 'patch', name: this.name, base: this._version, ops: b.ops, ref: b.ref };
      }
      if (!m._send(msg)) return;
      b.sent = true;
      b.conn = m._conn;
    }
  }

  _checkSettled() {
    if (this._pending.length > 0) return;
    const waiters = this._settleWaiters;
    this._settleWaiters = [];
    for (const w of waiters) w();
  }

  _rebase() {
    let v = this._confirmed;
    for (const b of this._pending) {
      const [next, kept] = applyBestEffort(v, b.ops);
      // A batch not yet sent carries only what still applies; a sent one
      // stays as sent until the server answers it.
      if (!b.sent && kept.length !== b.ops.length) b.ops = kept;
      v = next;
    }
    this._pending = this._pending.filter((b) => b.ops.length > 0 || b === this._open);
    this._setValue(v);
    this._checkSettled();
  }

  _subscribe() {
    this._synced = false;
    const msg = { type: 'subscribe', name: this.name };
    if (this._hasInitial) msg.init = this._initial;
    this._mirror._send(msg);
  }

  _onSnapshot(msg) {
    const before = this._confirmed;
    const conn = this._mirror._conn;
    this._confirmed = msg.exists === false ? undefined : msg.state;
    this._version = msg.version || 0;
    this._exists = msg.exists !== false && msg.version > 0;
    this._synced = true;
    if (this.error && this.error.code === 'file_removed' && this._exists) this._setError(null);
    const kept = [];
    const salvaged = [];
    for (const b of this._pending) {
      if (b.rejected) {
        // Rejected as a whole: retry what still applies, as a new change.
        salvaged.push({ ref: this._mirror._nextRef(), ops: b.ops, sent: false, conn: 0, rejected: false });
      } else if (b.sent && b.conn !== conn) {
        // In flight when the old connection dropped.
        if (!alreadyApplied(this._confirmed, before, b.ops)) kept.push({ ...b, sent: false, conn: 0 });
      } else {
        kept.push(b);
      }
    }
    this._pending = [...kept, ...salvaged];
    this._rebase();
    this._emit('snapshot', { version: this._version, state: this._confirmed, exists: this._exists });
    if (!this._loaded) {
      this._loaded = true;
      this._resolveReady(this);
    }
    this._sendPending();
  }

  _onPatch(msg) {
    if (!this._synced) return;
    if (msg.version !== this._version + 1) return this._subscribe(); // a gap
    try {
      this._confirmed = applyPatch(this._confirmed, msg.ops);
    } catch {
      return this._subscribe();
    }
    this._version = msg.version;
    this._exists = true;
    this._rebase();
    const ev = { name: this.name, version: msg.version, ops: msg.ops, origin: msg.origin };
    this._emit('patch', ev);
    return ev;
  }

  _onAck(msg) {
    const i = this._pending.findIndex((b) => b.ref === msg.ref && b.sent);
    if (i < 0) return;
    const [b] = this._pending.splice(i, 1);
    if (this._synced) {
      if (msg.version === this._version + 1) {
        try {
          this._confirmed = applyPatch(this._confirmed, b.ops);
          this._version = msg.version;
          this._exists = true;
        } catch {
          this._subscribe();
        }
      } else if (msg.version > this._version) {
        this._subscribe(); // a gap
      }
    }
    if (this.error && this.error.code === 'file_removed') this._setError(null);
    this._rebase();
    this._emit('ack', { ref: msg.ref, version: msg.version });
  }

  _onError(err) {
    const b = err.ref !== undefined ? this._pending.find((x) => x.ref === err.ref && x.sent) : null;
    if (err.code === 'conflict') {
      // A snapshot follows; the batch is salvaged on it.
      if (b) b.rejected = true;
      this._emit('conflict', err);
      return;
    }
    if (err.code === 'file_ok') {
      this._setError(null);
      return;
    }
    if (b && FINAL_ERRORS.has(err.code)) {
      this._pending = this._pending.filter((x) => x !== b);
      this._rebase();
    }
    if (FILE_ERRORS.has(err.code) || FINAL_ERRORS.has(err.code)) this._setError(err);
    if (err.code === 'unknown_state' && !this._loaded) {
      this._loaded = true;
      this._resolveReady(this);
    }
  }
}

/** A connection to a MirrorState server. Create it with connect(). */
export class Mirror extends Emitter {
  constructor(options = {}) {
    super();
    this.url = options.url;
    this.token = options.token;
    this.status = 'connecting';
    this.session = null;
    this.clientId = null;
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    if (typeof this._WebSocket !== 'function') {
      throw new Error('mirrorstate: no WebSocket here; pass connect({ WebSocket })');
    }
    const rc = options.reconnect === undefined ? {} : options.reconnect;
    this._reconnect = rc === false ? null : { min: rc.minDelay ?? 250, max: rc.maxDelay ?? 5000 };
    this._states = new Map();
    this._ref = 0;
    this._conn = 0;
    this._attempt = 0;
    this._ws = null;
    this._timer = null;
    this._hello = false;
    this._closed = false;
    // When the browser says the network is back, retry now rather than at
    // the end of the current backoff.
    this._onOnline = () => {
      if (this._timer !== null && !this._closed) {
        clearTimeout(this._timer);
        this._attempt = 0;
        this._open();
      }
    };
    if (this._reconnect && typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('online', this._onOnline);
    }
    this._open();
  }

  /** The handle of a named state (the same handle for the same name). With
   * `initial`, a state whose file does not exist yet is created with it. */
  state(name, options = {}) {
    if (typeof name !== 'string' || name === '') throw new TypeError('mirrorstate: a state name is a non-empty string');
    let s = this._states.get(name);
    if (!s) {
      s = new State(this, name, options);
      this._states.set(name, s);
      if (this._ready()) s._subscribe();
    } else if (!s._hasInitial && options.initial !== undefined) {
      s._hasInitial = true;
      s._initial = options.initial;
      if (!s._loaded) {
        s._confirmed = options.initial;
        s._rebase();
      }
      if (s._synced && !s._exists) s._subscribe();
    }
    return s;
  }

  /** Resolves once every change made so far on every state is confirmed. */
  settled() {
    return Promise.all([...this._states.values()].map((s) => s.settled())).then(() => {});
  }

  /** Closes the connection for good; pending changes not yet sent are
   * dropped. */
  close() {
    if (this._closed) return;
    this._closed = true;
    if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('online', this._onOnline);
    clearTimeout(this._timer);
    this._timer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      try { ws.close(1000); } catch { /* already closing */ }
    }
    this._setStatus('closed');
  }

  // --- internals -------------------------------------------------------

  _nextRef() { return ++this._ref; }

  _ready() { return this._hello && this._ws !== null && this._ws.readyState === 1; }

  _send(msg) {
    if (!this._ready()) return false;
    this._ws.send(JSON.stringify(msg));
    return true;
  }

  _setStatus(s) {
    if (s === this.status) return;
    this.status = s;
    this._emit('status', s);
  }

  _open() {
    this._timer = null;
    if (this._closed) return;
    this._setStatus('connecting');
    let url = this.url;
    if (this.token) {
      const u = new URL(url);
      u.searchParams.set('token', this.token);
      url = u.href;
    }
    let ws;
    try {
      ws = new this._WebSocket(url, PROTOCOL);
    } catch (e) {
      this._emit('error', { code: 'connect_failed', message: String(e && e.message || e) });
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    this._hello = false;
    const conn = ++this._conn;
    ws.onmessage = (ev) => { if (this._conn === conn) this._onMessage(ev.data); };
    ws.onclose = () => { if (this._conn === conn) this._onClose(); };
    ws.onerror = () => { /* a close event follows */ };
  }

  _onClose() {
    this._ws = null;
    this._hello = false;
    for (const s of this._states.values()) s._synced = false;
    if (this._closed) return;
    this._setStatus('closed');
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    if (!this._reconnect || this._closed) return;
    const { min, max } = this._reconnect;
    const base = Math.min(max, min * 2 ** this._attempt);
    this._attempt++;
    // "Equal jitter": half fixed, half random, so a restarted server is not
    // hit by every tab at the same instant.
    const delay = base / 2 + Math.random() * (base / 2);
    this._timer = setTimeout(() => this._open(), delay);
  }

  _onMessage(data) {
    let msg;
    try {
      msg = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    const s = typeof msg.name === 'string' ? this._states.get(msg.name) : undefined;
    switch (msg.type) {
      case 'hello': {
        this._hello = true;
        this._attempt = 0;
        const restarted = this.session !== null && this.session !== msg.session;
        this.session = msg.session;
        this.clientId = msg.client;
        this._emit('hello', { ...msg, restarted });
        this._setStatus('open');
        for (const st of this._states.values()) st._subscribe();
        break;
      }
      case 'snapshot':
        if (s) s._onSnapshot(msg);
        break;
      case 'patch':
        if (s) {
          const ev = s._onPatch(msg);
          if (ev) this._emit('patch', ev);
        }
        break;
      case 'ack':
        if (s) s._onAck(msg);
        break;
      case 'error': {
        const err = { ...msg };
        delete err.type;
        if (s) s._onError(err);
        this._emit('error', err);
        break;
      }
      default:
        break;
    }
  }
}
