// The devtools panel's protocol model, without any DOM: the client's own
// connection (a Mirror in the "panel" role) and state handles, plus what only
// the panel keeps: every state's file and status, recent versions for "view
// at version", the connected clients, and the page errors apps report. The
// view (panel.js) is told what changed through the callbacks it passes.

import { connect, diff } from 'mirrorstate-client';
import { describe } from './changes.js';

const SNAPSHOTS = 300;   // recent versions kept per state for "view at version"
const PAGE_ERRORS = 200; // page errors kept

/** The WebSocket URL of the server that served the panel, and the token
 * from the panel's own URL (?token=), if any. */
export function serverOf(loc) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(loc.search).get('token');
  return { url: `${scheme}//${loc.host}/_mirrorstate/ws`, token: token === null ? undefined : token };
}

function closeReason(info) {
  if (!info || info.code === undefined) return 'Connection lost';
  if (info.code === 1006) return 'Connection lost';
  if (info.code === 1001) return 'The server stopped or restarted';
  return `Closed by the server (${info.code}${info.reason ? `: ${info.reason}` : ''})`;
}

export class PanelModel {
  /** view: { render(dirty), log(entry), toast(text, level), status(info) }.
   * info.state is 'connecting', 'open', 'waiting' (with retryIn ms and
   * reason) or 'closed'. */
  constructor({ url, token, page, WebSocket, fetch }, view) {
    this.view = view;
    this.states = new Map();
    this.clients = [];
    this.pageErrors = [];
    this.clientId = null;
    this.session = null;
    this.server = null;
    this.everConnected = false;
    this._seq = 0;
    this._requests = new Set();
    this.mirror = connect({
      url, token, page, WebSocket, fetch,
      role: 'panel', reportErrors: false, warnAfter: 0, reconnect: { minDelay: 250, maxDelay: 10000 },
    });
    this.url = this.mirror.url;
    this.mirror.on('status', (s) => {
      if (s === 'open') this.everConnected = true;
      if (s === 'connecting' || s === 'open') this.view.status({ state: s });
    });
    this.mirror.on('retry', ({ delay }) => this.view.status({ state: 'waiting', retryIn: delay, reason: this.reason() }));
    this.mirror.on('hello', (h) => this.onHello(h));
    this.mirror.on('message', (m) => this.onMessage(m));
  }

  get connected() { return this.mirror.status === 'open'; }

  /** Why the connection is down, in words. */
  reason() {
    const err = this.mirror.error;
    if (err && err.code === 'forbidden') return `Refused by the server: ${err.message}`;
    return closeReason(this.mirror.closeInfo);
  }

  retry() { this.mirror.reconnectNow(); }

  stop() {
    this.mirror.close();
    this.view.status({ state: 'closed' });
  }

  /** Sends a message and resolves with its answer (or an `offline` error). */
  request(msg) {
    const ref = `p${++this._seq}`;
    this._requests.add(ref);
    return this.mirror.request({ ...msg, ref }).finally(() => this._requests.delete(ref));
  }

  /** The record of a state, created (and subscribed) on first sight. */
  state(name) {
    let st = this.states.get(name);
    if (st) return st;
    st = { name, file: null, version: 0, exists: undefined, status: undefined, value: undefined, snapshots: new Map(), fileError: null, writeError: null };
    this.states.set(name, st);
    const handle = this.mirror.state(name);
    st.handle = handle;
    handle.on('snapshot', (e) => this.onSnapshot(st, e));
    handle.on('patch', (e) => this.onChange(st, e.version, e.ops, e.origin, e.before));
    handle.on('ack', (e) => { if (e.version !== st.version) this.onChange(st, e.version, e.ops, 'panel', e.before); });
    handle.on('conflict', (e) => {
      this.view.toast(`Edit of ${name} no longer applied: ${e.message || 'conflict'}. What still applied was sent again.`, 'warn');
    });
    return st;
  }

  // ---- incoming ----------------------------------------------------------

  onHello(h) {
    if (this.session && this.session !== h.session) {
      this.view.log({ notice: 'The server restarted (new session): versions start again.', level: 'info' });
      for (const st of this.states.values()) {
        st.snapshots.clear();
        st.version = 0;
      }
    } else if (this.session) {
      this.view.log({ notice: 'Reconnected.', level: 'info' });
    }
    this.session = h.session;
    this.clientId = h.client;
    this.server = h.server;
    for (const name of h.states || []) this.state(name);
    this.mirror.send({ type: 'states' });
    this.mirror.send({ type: 'clients' });
    this.view.render({ all: true, hello: true });
  }

  onMessage(m) {
    if (m.ref !== undefined && this._requests.has(m.ref)) return; // the requester's
    switch (m.type) {
      case 'states': this.onStates(m); break;
      case 'clients':
        this.clients = Array.isArray(m.clients) ? m.clients : [];
        this.view.render({ clients: true });
        break;
      case 'page_error': this.onPageError(m); break;
      case 'error': this.onError(m); break;
      default: break;
    }
  }

  onStates(m) {
    for (const e of m.states || []) {
      const st = this.state(e.name);
      st.file = e.file ?? st.file;
      if (typeof e.exists === 'boolean' && st.value === undefined) st.exists = e.exists;
      const was = st.status;
      st.status = e.status;
      if (e.status === 'invalid') {
        st.fileError = { ...(st.fileError || {}), ...(e.error || {}), file: (st.fileError && st.fileError.file) || e.file };
      } else {
        if (was === 'invalid' && st.fileError) this.view.log({ name: st.name, notice: `${st.file || st.name} is valid JSON again.`, level: 'ok' });
        st.fileError = null;
      }
    }
    this.view.render({ all: true });
  }

  setValue(st, value, version, flash) {
    st.value = value;
    st.version = version;
    st.exists = true;
    st.snapshots.set(version, value);
    if (st.snapshots.size > SNAPSHOTS) st.snapshots.delete(st.snapshots.keys().next().value);
    this.view.render({ main: true, states: true, name: st.name, flash });
  }

  onSnapshot(st, e) {
    if (!e.exists) {
      st.exists = false;
      st.value = undefined;
      st.version = e.version || 0;
      if (!st.status) st.status = 'absent';
      this.view.render({ all: true });
      return;
    }
    const had = st.value !== undefined && st.exists;
    const ops = had ? diff(st.value, e.state) : [];
    if (had && st.version && e.version !== st.version) {
      this.view.log({ name: st.name, notice: `Resynchronised ${st.name} at v${e.version} (was v${st.version}${ops.length ? `; ${ops.length} change${ops.length === 1 ? '' : 's'} not seen one by one` : ''}).`, level: 'info' });
    }
    if (st.status === 'absent' || !st.status) st.status = 'ok';
    this.setValue(st, e.state, e.version, had ? ops.map((o) => o.path) : []);
  }

  // A change at `version` made by `origin` (another's, or the panel's own
  // acknowledged one); `before` is the state it applied to.
  onChange(st, version, ops, origin, before) {
    const { doc, changes } = describe(before, ops);
    this.view.log({ name: st.name, version, origin, changes });
    const flash = [];
    for (const o of ops) {
      flash.push(o.path);
      if (o.from !== undefined) flash.push(o.from);
    }
    if (st.status === 'absent' || !st.status) st.status = 'ok';
    this.setValue(st, doc, version, flash);
  }

  onPageError(m) {
    const e = { ...m, time: new Date() };
    delete e.type;
    this.pageErrors.push(e);
    if (this.pageErrors.length > PAGE_ERRORS) this.pageErrors.shift();
    this.view.log({ pageError: e, level: 'error' });
    this.view.render({ clients: true });
  }

  onError(m) {
    const st = m.name ? this.state(m.name) : null;
    switch (m.code) {
      case 'file_invalid':
        st.status = 'invalid';
        st.fileError = { message: m.message, file: m.file, line: m.line, column: m.column, text: m.text };
        this.view.log({
          name: m.name,
          notice: / line \d+/.test(m.message || '')
            ? `${m.file || m.name}: ${m.message}`
            : `${m.file || m.name}: invalid JSON at line ${m.line}, column ${m.column}: ${m.message}. Not overwritten until fixed.`,
          level: 'error',
        });
        this.view.render({ all: true });
        return;
      case 'file_ok':
        if (st.status === 'invalid') this.view.log({ name: m.name, notice: `${st.file || m.name} is valid JSON again.`, level: 'ok' });
        st.status = 'ok';
        st.fileError = null;
        this.view.render({ all: true });
        return;
      case 'file_removed':
        st.status = 'removed';
        this.view.log({ name: m.name, notice: `${st.file || m.name} was deleted; the state is kept in memory.`, level: 'warn' });
        this.view.render({ all: true });
        return;
      case 'write_failed':
        st.status = 'write_failed';
        st.writeError = m.message;
        this.view.log({ name: m.name, notice: `Cannot save ${st.file || m.name}: ${m.message}`, level: 'error' });
        this.view.render({ all: true });
        return;
      case 'conflict':
        return; // the handle re-sends what still applies; see 'conflict' above
      default:
        break;
    }
    const what = st ? `Edit of ${st.name} failed` : 'Server error';
    this.view.toast(`${what}: ${m.code}${m.message ? ` (${m.message})` : ''}`, 'error');
    if (st) this.view.log({ name: st.name, notice: `${what}: ${m.code}${m.message ? `: ${m.message}` : ''}`, level: 'error' });
  }

  // ---- actions -------------------------------------------------------------

  /** Applies ops to a state (absolute, as given). False when not sent. */
  patch(name, ops) {
    const st = this.states.get(name);
    if (!st) return false;
    if (!this.connected) {
      this.view.toast('Not connected: the edit was not sent.', 'error');
      return false;
    }
    try {
      st.handle.patch(ops);
    } catch (e) {
      this.view.toast(`Edit of ${name} does not apply: ${e.message}`, 'error');
      return false;
    }
    return true;
  }

  /** Replaces a state's value; resolves once the server answered. */
  set(name, value) {
    const st = this.states.get(name);
    if (!st) return null;
    if (!this.connected) {
      this.view.toast('Not connected: nothing was sent.', 'error');
      return null;
    }
    st.handle.set(value);
    return st.handle.settled();
  }

  /** Undoes the change made at `version`, keeping every later change. */
  async undo(name, version) {
    if (!this.states.get(name)) return;
    const answer = await this.request({ type: 'undo', name, versions: [version] });
    if (answer.type === 'ack') {
      const text = (answer.undone || []).length
        ? `Undid the change of v${version} to ${name} (now v${answer.version}); later changes kept.`
        : `Nothing to undo: v${version} of ${name} changes nothing any more.`;
      this.view.toast(text, 'ok');
      this.view.log({ name, notice: text, level: 'ok' });
      this.view.render({ reverted: true });
    } else {
      const why = (answer.conflicts || []).map((c) => `${c.path || 'the whole state'} was changed again at v${c.by}`).join('; ');
      const text = answer.code === 'conflict' && why
        ? `Cannot undo v${version} of ${name}: ${why}. Nothing was undone.`
        : `Undo of v${version} of ${name} failed: ${answer.code}${answer.message ? ` (${answer.message})` : ''}`;
      this.view.toast(text, 'error');
      this.view.log({ name, notice: text, level: 'error' });
    }
  }

  /** Puts the whole state back as it was at `version` (a new change),
   * discarding every later change; says which. */
  async reset(name, version) {
    if (!this.states.get(name)) return;
    const answer = await this.request({ type: 'reset', name, version });
    if (answer.type === 'ack') {
      const gone = answer.discarded || [];
      const text = `Reset ${name} to v${version} (now v${answer.version})${gone.length ? `, discarding the changes of v${gone.join(', v')}` : ''}.`;
      this.view.toast(text, 'ok');
      this.view.log({ name, notice: text, level: gone.length ? 'warn' : 'ok' });
      this.view.render({ reverted: true });
    } else {
      const text = `Reset of ${name} to v${version} failed: ${answer.code}${answer.message ? ` (${answer.message})` : ''}`;
      this.view.toast(text, 'error');
      this.view.log({ name, notice: text, level: 'error' });
    }
  }

}
