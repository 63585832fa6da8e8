// The MirrorState client's connection: one WebSocket per Mirror, any number
// of named states on it (state.js), reconnects with backoff, and the loud
// failures: an unknown state, a refused change, a server that cannot be
// reached, a refused token, a closed mirror each give one clear console
// message naming the state and the fix, and show in `state.error` and
// `state.status`.
//
// It also closes the agent's loop: after its subscribers ran for a version,
// the client reports `applied` (at most every APPLIED_EVERY ms, always the
// latest version), and it reports the page's errors (report.js).

import { Emitter } from './emitter.js';
import { State } from './state.js';
import { toJSONValue } from './draft.js';
import { watchPageErrors } from './report.js';

export { State };
export const PROTOCOL = 'mirrorstate.v1';

const APPLIED_EVERY = 50;
const ERRORS_PER_WINDOW = 10;
const ERROR_WINDOW = 10000;

/** The page's boot data (injected into the HTML by the Vite plugin), or
 * null: `{ url?, states: { NAME: { version, exists, state? } } }`. */
export function readBoot(g = globalThis) {
  const b = g.__MIRRORSTATE__;
  return b && typeof b === 'object' && b.states && typeof b.states === 'object' ? b : null;
}

// http(s)://, ws(s):// or a path -> a ws(s):// URL.
function toWs(url, loc) {
  const u = new URL(url, loc && loc.href ? loc.href : undefined);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.href;
}

/** The WebSocket URL connect() uses without `url`: the boot data's url; else,
 * for a module served by a MirrorState server as /_mirrorstate/client.js,
 * that server's /_mirrorstate/ws; else the page's own origin
 * (`location.origin + '/_mirrorstate/ws'`: a dev server proxying
 * /_mirrorstate, or `mirrorstate serve --static`). */
export function defaultUrl(moduleUrl, loc = globalThis.location, boot = readBoot()) {
  if (boot && typeof boot.url === 'string' && boot.url) return toWs(boot.url, loc);
  try {
    const u = new URL(moduleUrl);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && /\/_mirrorstate\/client\.js$/.test(u.pathname)) {
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      u.pathname = u.pathname.replace(/client\.js$/, 'ws');
      u.search = '';
      u.hash = '';
      return u.href;
    }
  } catch { /* not a URL: fall through */ }
  if (loc && typeof loc.origin === 'string' && /^https?:/.test(loc.origin)) {
    return `${loc.origin.replace(/^http/, 'ws')}/_mirrorstate/ws`;
  }
  throw new Error('mirrorstate: no url given, and none can be derived here; pass connect({ url })');
}

/** Whether two server URLs name the same WebSocket endpoint. */
export function sameEndpoint(a, b, loc = globalThis.location) {
  try {
    const x = new URL(toWs(a, loc));
    const y = new URL(toWs(b, loc));
    return x.host === y.host && x.pathname === y.pathname && x.protocol === y.protocol;
  } catch {
    return false;
  }
}

/** The page's URL without query and fragment (they may hold secrets). */
export function pageUrl(loc = globalThis.location) {
  return loc && typeof loc.origin === 'string' && typeof loc.pathname === 'string' ? loc.origin + loc.pathname : undefined;
}

const withoutToken = (url) => url.replace(/([?&]token=)[^&#]*/, '$1…');

function refusalHint(message) {
  if (/token/i.test(message)) return 'Pass the token the server was started with: connect({ token }).';
  if (/origin/i.test(message)) {
    const o = globalThis.location && globalThis.location.origin;
    return `Allow this page's origin: mirrorstate serve --allow-origin ${o || 'ORIGIN'}.`;
  }
  if (/host/i.test(message)) return 'Allow the host name the page uses: mirrorstate serve --allow-host HOST.';
  return 'See the server\'s log for the reason.';
}

/** A connection to a MirrorState server. Create it with connect(). */
export class Mirror extends Emitter {
  constructor(options = {}) {
    super();
    if (typeof options.url !== 'string' || !options.url) throw new TypeError('mirrorstate: a Mirror needs a url; use connect()');
    this.url = options.url;
    this.token = options.token;
    this.role = options.role || 'app';
    this.page = options.page !== undefined ? options.page : pageUrl();
    this.status = 'connecting';
    this.session = null;
    this.clientId = null;
    /** Names the server mirrors (from the last hello). */
    this.names = [];
    /** When the next connection attempt is due (ms since the epoch), or null. */
    this.retryAt = null;
    /** How the last connection closed: { code, reason }, or null. */
    this.closeInfo = null;
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    if (typeof this._WebSocket !== 'function') {
      throw new Error('mirrorstate: no WebSocket here; pass connect({ WebSocket })');
    }
    this._fetch = options.fetch !== undefined ? options.fetch
      : typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : null;
    const rc = options.reconnect === undefined ? {} : options.reconnect;
    this._reconnect = rc === false ? null : { min: rc.minDelay ?? 250, max: rc.maxDelay ?? 5000 };
    this._warnAfter = options.warnAfter ?? 3000;
    this._boot = options.boot || null;
    this._states = new Map();
    this._ref = 0;
    this._conn = 0;
    this._attempt = 0;
    this._ws = null;
    this._timer = null;
    this._watchdog = null;
    this._hello = false;
    this._closed = false;
    this._everOpen = false;
    this._unreachable = false;
    this._probed = false;
    this._connError = null;
    this._warned = new Set();
    this._requests = new Map();
    this._unsupported = new Set();
    this._appliedDirty = new Set();
    this._appliedTimer = null;
    this._errorTimes = [];
    this._errorQueue = [];
    this._unwatchErrors = this.role === 'app' && options.reportErrors !== false ? watchPageErrors(this) : null;
    // When the browser says the network is back, retry now rather than at
    // the end of the current backoff.
    this._onOnline = () => { if (this._timer !== null) this.reconnectNow(); };
    if (this._reconnect && typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('online', this._onOnline);
    }
    this._startWatchdog();
    this._open();
  }

  /** Whether close() was called. */
  get closed() { return this._closed; }

  /** The connection's problem, or null: `unreachable` (no connection for
   * `warnAfter` ms), `forbidden` (the server refused it: a token, Host or
   * Origin; `message` says which) or `closed`. */
  get error() { return this._connError; }

  /** The handle of a named state (the same handle for the same name). With
   * `initial`, a state whose file does not exist is created with it. */
  state(name, options = {}) {
    if (typeof name !== 'string' || name === '') throw new TypeError('mirrorstate: a state name is a non-empty string');
    let s = this._states.get(name);
    if (!s) {
      s = new State(this, name, options);
      this._states.set(name, s);
      if (this._ready()) s._subscribe();
    } else if (!s._hasInitial && options.initial !== undefined) {
      s._hasInitial = true;
      s._initial = toJSONValue(options.initial);
      if (!s._exists) {
        s._recompute();
        s._changed();
        if (s._synced) s._subscribe();
      }
    }
    return s;
  }

  /** Resolves once every change made so far on every state is confirmed. */
  settled() {
    return Promise.all([...this._states.values()].map((s) => s.settled())).then(() => {});
  }

  /** Sends a raw protocol message; false when not connected. For tools. */
  send(msg) { return this._send(msg); }

  /** Sends a message with a `ref` and resolves with the server's answer to
   * it (the message carrying that ref), or with an `offline` error message
   * when not connected or the connection drops first. For tools. */
  request(msg) {
    const ref = msg.ref !== undefined ? msg.ref : `r${this._nextRef()}`;
    return new Promise((resolve) => {
      if (!this._send({ ...msg, ref })) {
        resolve({ type: 'error', code: 'offline', message: 'not connected', ref });
        return;
      }
      this._requests.set(ref, resolve);
    });
  }

  /** Tries to connect now instead of at the end of the current backoff. */
  reconnectNow() {
    if (this._closed || this._ws) return;
    clearTimeout(this._timer);
    this._attempt = 0;
    this._open();
  }

  /** Closes the connection for good; changes not yet sent are dropped. */
  close() {
    if (this._closed) return;
    this._closed = true;
    const unsent = [...this._states.values()].reduce((n, s) => n + s.pending, 0);
    if (unsent > 0) console.warn(`mirrorstate: mirror closed with ${unsent} change(s) not confirmed by the server; they are dropped.`);
    if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('online', this._onOnline);
    if (this._unwatchErrors) this._unwatchErrors();
    clearTimeout(this._timer);
    clearTimeout(this._watchdog);
    clearTimeout(this._appliedTimer);
    this._timer = null;
    this.retryAt = null;
    const ws = this._ws;
    this._ws = null;
    this._hello = false;
    if (ws) {
      try { ws.close(1000); } catch { /* already closing */ }
    }
    this._connError = { code: 'closed', message: 'the mirror was closed', fatal: true };
    this._endRequests();
    this._setStatus('closed');
    for (const s of this._states.values()) {
      s._synced = false;
      s._emit('error', s.error);
      s._changed();
      s._checkSettled();
    }
  }

  // --- internals -------------------------------------------------------

  _nextRef() { return ++this._ref; }

  _ready() { return this._hello && this._ws !== null && this._ws.readyState === 1; }

  _offline() { return this.status !== 'open' && (this._everOpen || this._unreachable); }

  _bootFor(name) {
    const b = this._boot;
    return b && b.states && Object.prototype.hasOwnProperty.call(b.states, name) ? b.states[name] : null;
  }

  _send(msg) {
    if (!this._ready()) return false;
    this._ws.send(JSON.stringify(msg));
    return true;
  }

  _setStatus(s) {
    if (s === this.status) return;
    this.status = s;
    this._emit('status', s);
    for (const st of this._states.values()) st._changed();
  }

  _setConnError(err) {
    this._connError = err;
    for (const s of this._states.values()) {
      s._emit('error', s.error);
      s._changed();
    }
  }

  _warnOnce(key, level, text) {
    if (this._warned.has(key)) return;
    this._warned.add(key);
    console[level](text);
  }

  _unknownText(name) {
    const names = this.names.length ? this.names.map((n) => `"${n}"`).join(', ') : 'none';
    const guess = this.names.length === 1 ? ` Use mirror.state("${this.names[0]}"), or serve` : ' Use one of those, or serve';
    return `mirrorstate: the server does not mirror a state named "${name}"; it mirrors: ${names}. ` +
      `A state is named after its file without .json (--file state.json mirrors "state").${guess} ` +
      `the file you meant: mirrorstate serve --file ${name}.json (or --dir DIR).`;
  }

  _startWatchdog() {
    clearTimeout(this._watchdog);
    if (this._closed || !this._warnAfter) return;
    this._watchdog = setTimeout(() => {
      this._watchdog = null;
      if (this._hello || this._closed) return;
      this._unreachable = true;
      const secs = Math.round(this._warnAfter / 100) / 10;
      if (!this._connError) {
        this._setConnError({ code: 'unreachable', message: `cannot reach ${withoutToken(this.url)}` });
      } else {
        for (const s of this._states.values()) s._changed();
      }
      if (this._connError.code === 'unreachable') {
        this._warnOnce('unreachable', 'warn',
          `mirrorstate: cannot reach the MirrorState server at ${withoutToken(this.url)} (no connection for ${secs} s; still retrying). ` +
          'Is `mirrorstate serve` running, on that host and port? If it runs elsewhere, pass connect({ url }).');
      }
    }, this._warnAfter);
  }

  _open() {
    this._timer = null;
    this.retryAt = null;
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
    ws.onopen = () => { if (this._conn === conn) this._onOpen(); };
    ws.onmessage = (ev) => { if (this._conn === conn) this._onMessage(ev.data); };
    ws.onclose = (ev) => { if (this._conn === conn) this._onClose(ev); };
    ws.onerror = () => { /* a close event follows */ };
  }

  _onOpen() {
    if (this.role === 'app' && !this.page) return;
    const msg = { type: 'identify', role: this.role };
    if (this.page) msg.page = this.page;
    try { this._ws.send(JSON.stringify(msg)); } catch { /* closing */ }
  }

  _onClose(ev) {
    const wasOpen = this._hello;
    this._ws = null;
    this._hello = false;
    this.closeInfo = { code: ev && ev.code, reason: (ev && ev.reason) || '' };
    this._endRequests();
    for (const s of this._states.values()) s._onDisconnect();
    if (this._closed) return;
    this._setStatus('closed');
    if (wasOpen) this._startWatchdog();
    else this._probe();
    this._scheduleReconnect();
  }

  _endRequests() {
    const reqs = [...this._requests];
    this._requests.clear();
    for (const [ref, resolve] of reqs) resolve({ type: 'error', code: 'offline', message: 'the connection closed', ref });
  }

  // A connection that fails before hello: asks the server over HTTP why
  // (a refused token, Host or Origin answers 403 with the reason).
  async _probe() {
    if (this._probed || !this._fetch) return;
    this._probed = true;
    let res;
    try {
      const u = new URL(this.url);
      u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
      u.pathname = u.pathname.replace(/ws$/, 'api/states');
      u.hash = '';
      if (this.token) u.searchParams.set('token', this.token);
      res = await this._fetch(u.href, { cache: 'no-store', credentials: 'omit' });
    } catch {
      return; // unreachable, or not readable from this origin
    }
    if (this._hello || this._closed || (res.status !== 403 && res.status !== 401)) return;
    let message = `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (body && typeof body.message === 'string') message = body.message;
    } catch { /* not JSON */ }
    if (this._hello || this._closed) return;
    this._setConnError({ code: 'forbidden', message, fatal: true });
    this._warnOnce('forbidden', 'error',
      `mirrorstate: the server at ${withoutToken(this.url)} refused the connection: ${message}. ${refusalHint(message)}`);
  }

  _scheduleReconnect() {
    if (!this._reconnect || this._closed) return;
    const { min, max } = this._reconnect;
    const base = Math.min(max, min * 2 ** this._attempt);
    this._attempt++;
    // "Equal jitter": half fixed, half random, so a restarted server is not
    // hit by every tab at the same instant.
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryAt = Date.now() + delay;
    this._timer = setTimeout(() => this._open(), delay);
    this._emit('retry', { delay, attempt: this._attempt });
  }

  _onHello(msg) {
    this._hello = true;
    this._everOpen = true;
    this._attempt = 0;
    this._unreachable = false;
    this._probed = false;
    clearTimeout(this._watchdog);
    this._watchdog = null;
    this._unsupported.clear();
    const restarted = this.session !== null && this.session !== msg.session;
    this.session = msg.session;
    this.clientId = msg.client;
    this.names = Array.isArray(msg.states) ? msg.states.filter((n) => typeof n === 'string') : [];
    if (this._connError && this._connError.code !== 'closed') this._setConnError(null);
    this._emit('hello', { ...msg, restarted });
    this._setStatus('open');
    for (const st of this._states.values()) {
      st._reported = null;
      if (!st._fatal) st._subscribe();
    }
    const queued = this._errorQueue;
    this._errorQueue = [];
    for (const m of queued) this._send(m);
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
    const request = msg.ref !== undefined ? this._requests.get(msg.ref) : undefined;
    if (request) this._requests.delete(msg.ref);
    switch (msg.type) {
      case 'hello':
        this._onHello(msg);
        break;
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
        // A server from before `applied` and `page_error` refuses them:
        // stop sending them on this connection, quietly.
        const unknown = /^unknown message type "(applied|page_error)"/.exec(msg.message || '');
        if (msg.code === 'bad_message' && unknown && !request) {
          this._unsupported.add(unknown[1]);
          return;
        }
        const err = { ...msg };
        delete err.type;
        if (s && !request) s._onError(err);
        this._emit('error', err);
        if (!s && !request && err.code !== 'file_ok') {
          this._warnOnce(`server:${err.code}`, 'warn', `mirrorstate: the server reported ${err.code}: ${err.message || ''}`);
        }
        break;
      }
      default:
        break;
    }
    if (request) request(msg);
    this._emit('message', msg);
  }

  // Reports, at most every APPLIED_EVERY ms, the latest version each state
  // showed to its subscribers.
  _noteApplied(state) {
    if (this.role !== 'app' || this._closed) return;
    this._appliedDirty.add(state);
    if (this._appliedTimer === null) this._appliedTimer = setTimeout(() => this._flushApplied(), APPLIED_EVERY);
  }

  _flushApplied() {
    this._appliedTimer = null;
    if (!this._ready()) return; // every state reports again after its next snapshot
    for (const s of this._appliedDirty) {
      if (!s._synced || s._version === 0 || s._version === s._reported || this._unsupported.has('applied')) continue;
      this._send({ type: 'applied', name: s.name, version: s._version });
      s._reported = s._version;
    }
    this._appliedDirty.clear();
  }

  // Called by report.js for an uncaught error, an unhandled rejection or a
  // console.error of the page.
  _pageError(kind, message, stack) {
    if (this._closed) return;
    const now = Date.now();
    this._errorTimes = this._errorTimes.filter((t) => now - t < ERROR_WINDOW);
    if (this._errorTimes.length >= ERRORS_PER_WINDOW) return;
    this._errorTimes.push(now);
    const states = {};
    for (const st of this._states.values()) states[st.name] = st._version;
    const msg = { type: 'page_error', kind, message: String(message).slice(0, 4000) };
    if (stack) msg.stack = String(stack).slice(0, 8000);
    const url = pageUrl();
    if (url) msg.url = url;
    msg.states = states;
    if (this._unsupported.has('page_error')) return;
    if (!this._send(msg)) {
      this._errorQueue.push(msg);
      if (this._errorQueue.length > ERRORS_PER_WINDOW) this._errorQueue.shift();
    }
  }
}
