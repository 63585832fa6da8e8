// MirrorState devtools panel: entry point. Keeps a local copy of every
// mirrored state (applying the server's patches), and wires the panes:
// states and clients (sidebar.js), the live tree (tree.js), the raw editor
// (raw.js), the event log (log.js), history (history.js), banners (banner.js).

import { Connection, wsUrl } from './conn.js';
import { TreeView } from './tree.js';
import { LogView } from './log.js';
import { HistoryView, rewind } from './history.js';
import { RawEditor } from './raw.js';
import { renderStates, renderClients } from './sidebar.js';
import { renderBanners } from './banner.js';
import { describe, diff } from './jsonpatch.js';
import { h, clear, clock, ltr, prefs } from './util.js';

const SNAPSHOTS = 300; // recent versions kept per state for "view at version"
const $ = (id) => document.getElementById(id);

class App {
  constructor() {
    this.states = new Map();
    this.clients = [];
    this.clientId = null;
    this.session = null;
    this.server = null;
    this.selected = decodeURIComponent(location.hash.slice(1)) || prefs.get('mirrorstate.selected') || null;
    this.viewing = null; // {name, version, value} when showing an older version
    this.pending = new Map(); // ref -> {kind, name, ops?, state?, target?, cb?}
    this.view = prefs.get('mirrorstate.view') === 'raw' ? 'raw' : 'tree';
    this.side = prefs.get('mirrorstate.side') === 'history' ? 'history' : 'log';
    this.flashes = new Set();
    this.frame = 0;
    this.everConnected = false;

    this.tree = new TreeView($('tree'), {
      onReplace: (p, v) => this.sendPatch(this.selected, [{ op: 'replace', path: p, value: v }]),
      onRemove: (p) => this.sendPatch(this.selected, [{ op: 'remove', path: p }]),
      onAdd: (p, v) => this.sendPatch(this.selected, [{ op: 'add', path: p, value: v }]),
    });
    this.log = new LogView($('log'), $('log-filters'), $('log-tools'), { onSelect: (e) => this.viewVersion(e.name, e.version) });
    this.history = new HistoryView($('history'), this);
    this.raw = new RawEditor($('raw'), this);
    this.conn = new Connection({
      url: wsUrl(),
      // Without the query: it may hold ?token=, and every client sees the page.
      page: location.origin + location.pathname,
      onMessage: (m) => this.onMessage(m),
      onStatus: (s) => this.onStatus(s),
    });
    this.wire();
    this.log.refresh();
    this.conn.start();
    setInterval(() => renderClients($('clients'), $('clients-count'), this), 15000);
  }

  wire() {
    for (const b of document.querySelectorAll('[data-view]')) b.addEventListener('click', () => this.setView(b.dataset.view));
    for (const b of document.querySelectorAll('[data-side]')) b.addEventListener('click', () => this.setSide(b.dataset.side));
    $('expand-all').addEventListener('click', () => this.tree.setAll(true));
    $('collapse-all').addEventListener('click', () => this.tree.setAll(false));
    $('back-live').addEventListener('click', () => this.showLive());
    $('view-revert').addEventListener('click', () => this.viewing && this.revert(this.viewing.name, this.viewing.version));
    $('conn').addEventListener('click', () => this.conn.retry());
    $('offline-retry').addEventListener('click', () => this.conn.retry());
    $('api-link').href = `./api/states${location.search}`;
    window.addEventListener('hashchange', () => {
      const name = decodeURIComponent(location.hash.slice(1));
      if (name && name !== this.selected && this.states.has(name)) this.select(name);
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.viewing && !e.target.closest('input, textarea')) this.showLive();
    });
    this.setView(this.view);
    this.setSide(this.side);
  }

  // ---- connection -------------------------------------------------------

  onStatus(s) {
    const el = $('conn');
    el.dataset.state = s.state;
    clearInterval(this.countdown);
    const retryAt = Date.now() + (s.retryIn || 0);
    const text = () => ({
      connecting: this.everConnected ? 'reconnecting…' : 'connecting…',
      open: 'connected',
      waiting: `offline · retry in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))}s`,
      closed: 'closed',
    }[s.state]);
    $('conn-text').textContent = text();
    if (s.state === 'waiting') this.countdown = setInterval(() => { $('conn-text').textContent = text(); }, 250);
    el.title = s.state === 'waiting' ? `${s.reason || 'disconnected'}; click to retry now` : `${this.conn.url}`;
    document.body.classList.toggle('offline', s.state !== 'open');
    // The offline bar only once a connection was lost (not while the first
    // attempt is still under way), or after a failed first attempt.
    $('offline').hidden = s.state === 'open' || (s.state === 'connecting' && !this.everConnected);
    if (s.state === 'waiting') {
      $('offline-text').textContent = this.everConnected
        ? `${s.reason || 'Connection lost'}. Showing the last known state; editing is off until the connection is back.`
        : `Cannot connect to ${this.conn.url.replace(/token=[^&]*/, 'token=…')}: refused or unreachable. Is mirrorstate running${new URLSearchParams(location.search).has('token') ? ', and is the token right' : ''}?`;
    }
    if (s.state === 'open') this.everConnected = true;
    this.schedule({ main: true });
    if (s.state === 'waiting' || s.state === 'closed') {
      if (this.pending.size) {
        const edits = [...this.pending.values()].filter((p) => p.kind !== 'request').length;
        if (edits) this.toast(`Connection lost with ${edits} edit${edits === 1 ? '' : 's'} unconfirmed; check the state after reconnecting.`, 'warn');
      }
      this.pending.clear();
      for (const st of this.states.values()) st.subscribed = false;
      this.raw.validate();
    }
  }

  request(msg, cb) {
    const ref = this.conn.send(msg);
    if (ref === null) {
      cb({ type: 'error', code: 'offline', message: 'not connected' });
      return null;
    }
    this.pending.set(ref, { kind: 'request', cb });
    return ref;
  }

  state(name) {
    let st = this.states.get(name);
    if (!st) {
      st = { name, file: null, version: 0, exists: undefined, status: undefined, value: undefined, snapshots: new Map(), subscribed: false };
      this.states.set(name, st);
    }
    return st;
  }

  subscribeAll() {
    for (const st of this.states.values()) {
      if (!st.subscribed && this.conn.send({ type: 'subscribe', name: st.name })) st.subscribed = true;
    }
  }

  onMessage(m) {
    const p = m.ref !== undefined ? this.pending.get(m.ref) : undefined;
    if (p) this.pending.delete(m.ref);
    switch (m.type) {
      case 'hello': return this.onHello(m);
      case 'states': this.onStates(m); break;
      case 'clients':
        this.clients = Array.isArray(m.clients) ? m.clients : [];
        renderClients($('clients'), $('clients-count'), this);
        break;
      case 'snapshot': this.onSnapshot(m); break;
      case 'patch': this.onPatch(m); break;
      case 'ack': this.onAck(m, p); break;
      case 'error': this.onError(m, p); break;
      case 'history': break;
      default: break;
    }
    if (p && p.cb) p.cb(m);
  }

  onHello(m) {
    if (this.session && this.session !== m.session) {
      this.log.add({ notice: 'The server restarted (new session): versions start again.', level: 'info' });
      for (const st of this.states.values()) {
        st.snapshots.clear();
        st.version = 0;
      }
      this.viewing = null;
    } else if (this.session) {
      this.log.add({ notice: 'Reconnected.', level: 'info' });
    }
    this.session = m.session;
    this.clientId = m.client;
    this.server = m.server;
    $('server-info').textContent = `${m.server || 'mirrorstate'} · ${location.host}`;
    $('server-info').title = `session ${m.session}\nthis panel is client ${m.client}\n${this.conn.url}`;
    for (const name of m.states || []) this.state(name);
    this.conn.send({ type: 'states' });
    this.conn.send({ type: 'clients' });
    this.subscribeAll();
    if (!this.selected || !this.states.has(this.selected)) this.select((m.states || [])[0] || null, true);
    this.schedule({ all: true });
  }

  onStates(m) {
    for (const e of m.states || []) {
      const st = this.state(e.name);
      st.file = e.file ?? st.file;
      if (typeof e.exists === 'boolean' && !st.value) st.exists = e.exists;
      const was = st.status;
      st.status = e.status;
      if (e.status === 'invalid') {
        st.fileError = { ...(st.fileError || {}), ...(e.error || {}), file: (st.fileError && st.fileError.file) || e.file };
      } else {
        if (was === 'invalid' && st.fileError) this.log.add({ name: st.name, notice: `${st.file || st.name} is valid JSON again.`, level: 'ok' });
        st.fileError = null;
      }
    }
    this.subscribeAll();
    if (!this.selected || !this.states.has(this.selected)) this.select([...this.states.keys()].sort()[0] || null, true);
    this.schedule({ all: true });
  }

  setValue(st, value, version, flash) {
    st.value = value;
    st.version = version;
    st.exists = true;
    st.snapshots.set(version, value);
    if (st.snapshots.size > SNAPSHOTS) st.snapshots.delete(st.snapshots.keys().next().value);
    if (st.name === this.selected) for (const f of flash) this.flashes.add(f);
    this.schedule({ main: true, states: true });
  }

  onSnapshot(m) {
    const st = this.state(m.name);
    st.subscribed = true;
    if (m.exists === false) {
      st.exists = false;
      st.value = undefined;
      st.version = m.version || 0;
      if (!st.status) st.status = 'absent';
      this.schedule({ all: true });
      return;
    }
    const had = st.value !== undefined && st.exists;
    const ops = had ? diff(st.value, m.state) : [];
    if (had && st.version && m.version !== st.version) {
      this.log.add({ name: st.name, notice: `Resynchronised ${st.name} at v${m.version} (was v${st.version}${ops.length ? `; ${ops.length} change${ops.length === 1 ? '' : 's'} not seen one by one` : ''}).`, level: 'info' });
    }
    if (st.status === 'absent' || !st.status) st.status = 'ok';
    this.setValue(st, m.state, m.version, had ? ops.map((o) => o.path) : []);
    this.raw.sync();
  }

  // Applies ops received (or acked) at `version` to the local copy.
  applyChange(st, version, ops, origin, extra = {}) {
    if (st.version !== version - 1 || st.value === undefined) {
      this.resync(st, `expected v${st.version + 1}, got v${version}`);
      return;
    }
    const { doc, changes, ok } = describe(st.value, ops);
    if (!ok) {
      this.resync(st, `v${version} did not apply to the local copy`);
      return;
    }
    this.log.add({ name: st.name, version, origin, changes, ...extra });
    const flash = [];
    for (const o of ops) {
      flash.push(o.path);
      if (o.from !== undefined) flash.push(o.from);
    }
    this.setValue(st, doc, version, flash);
    this.raw.sync();
    if (this.side === 'history' && st.name === this.selected) this.history.load();
  }

  resync(st, why) {
    console.warn(`mirrorstate panel: resubscribing to ${st.name}: ${why}`);
    this.conn.send({ type: 'subscribe', name: st.name });
  }

  onPatch(m) {
    const st = this.state(m.name);
    this.applyChange(st, m.version, m.ops || [], m.origin);
  }

  onAck(m, p) {
    if (!p || p.kind === 'request') return;
    const st = this.state(p.name);
    if (p.kind === 'patch') {
      if (m.version === st.version) return; // nothing changed
      this.applyChange(st, m.version, p.ops, 'panel');
    } else if (p.kind === 'set') {
      if (m.version !== st.version) {
        if (m.version === st.version + 1 && st.value !== undefined) this.applyChange(st, m.version, diff(st.value, p.state), 'panel');
        else this.resync(st, 'set acked out of order');
      }
    } else if (p.kind === 'revert') {
      if (m.version === st.version) return;
      const target = st.snapshots.get(p.target);
      if (target !== undefined && m.version === st.version + 1) {
        this.applyChange(st, m.version, diff(st.value, target), 'panel', { note: `revert to v${p.target}` });
      } else {
        this.resync(st, 'revert acked; fetching the result');
      }
      this.toast(`Reverted ${p.name} to v${p.target} (now v${m.version}).`, 'ok');
      this.showLive();
    }
  }

  onError(m, p) {
    const st = m.name ? this.state(m.name) : null;
    switch (m.code) {
      case 'file_invalid':
        st.status = 'invalid';
        st.fileError = { message: m.message, file: m.file, line: m.line, column: m.column, text: m.text };
        this.log.add({
          name: m.name,
          notice: / line \d+/.test(m.message || '')
            ? `${m.file || m.name}: ${m.message}`
            : `${m.file || m.name}: invalid JSON at line ${m.line}, column ${m.column}: ${m.message}. Not overwritten until fixed.`,
          level: 'error',
        });
        this.schedule({ all: true });
        return;
      case 'file_ok':
        if (st.status === 'invalid') this.log.add({ name: m.name, notice: `${st.file || m.name} is valid JSON again.`, level: 'ok' });
        st.status = 'ok';
        st.fileError = null;
        this.schedule({ all: true });
        return;
      case 'file_removed':
        st.status = 'removed';
        this.log.add({ name: m.name, notice: `${st.file || m.name} was deleted; the state is kept in memory.`, level: 'warn' });
        this.schedule({ all: true });
        return;
      case 'write_failed':
        st.status = 'write_failed';
        st.writeError = m.message;
        this.log.add({ name: m.name, notice: `Cannot save ${st.file || m.name}: ${m.message}`, level: 'error' });
        this.schedule({ all: true });
        return;
      default:
        break;
    }
    if (p && p.kind === 'request') return; // the caller shows it
    const what = p ? `${p.kind === 'revert' ? `Revert of ${p.name} to v${p.target}` : `Edit of ${p.name}`} failed` : 'Server error';
    this.toast(`${what}: ${m.code}${m.message ? ` (${m.message})` : ''}`, 'error');
    if (p) this.log.add({ name: p.name, notice: `${what}: ${m.code}${m.message ? `: ${m.message}` : ''}`, level: 'error' });
  }

  // ---- actions ----------------------------------------------------------

  sendPatch(name, ops) {
    const st = this.states.get(name);
    if (!st) return false;
    const msg = { type: 'patch', name, base: st.version, ops };
    const ref = this.conn.send(msg);
    if (ref === null) {
      this.toast('Not connected: the edit was not sent.', 'error');
      return false;
    }
    this.pending.set(ref, { kind: 'patch', name, ops });
    return true;
  }

  sendSet(name, state, base, cb) {
    const ref = this.conn.send({ type: 'set', name, base, state });
    if (ref === null) {
      this.toast('Not connected: nothing was sent.', 'error');
      return false;
    }
    this.pending.set(ref, { kind: 'set', name, state, cb });
    return true;
  }

  revert(name, version) {
    const ref = this.conn.send({ type: 'revert', name, version });
    if (ref === null) {
      this.toast('Not connected: nothing was sent.', 'error');
      return;
    }
    this.pending.set(ref, { kind: 'revert', name, target: version });
  }

  select(name, quiet) {
    if (name === this.selected && !quiet) return;
    this.selected = name;
    if (this.viewing && this.viewing.name !== name) this.viewing = null;
    if (name) {
      prefs.set('mirrorstate.selected', name);
      if (decodeURIComponent(location.hash.slice(1)) !== name) history.replaceState(null, '', `#${encodeURIComponent(name)}`);
    }
    this.log.setStateFilter(name);
    this.flashes.clear();
    this.raw.sync();
    if (this.side === 'history') this.history.load();
    this.schedule({ all: true });
  }

  setView(view) {
    this.view = view;
    prefs.set('mirrorstate.view', view);
    for (const b of document.querySelectorAll('[data-view]')) b.setAttribute('aria-selected', String(b.dataset.view === view));
    $('tree').hidden = view !== 'tree';
    $('raw').hidden = view !== 'raw';
    $('tree-tools').hidden = view !== 'tree';
    if (view === 'raw') this.raw.sync();
  }

  setSide(side) {
    this.side = side;
    prefs.set('mirrorstate.side', side);
    for (const b of document.querySelectorAll('[data-side]')) b.setAttribute('aria-selected', String(b.dataset.side === side));
    $('log-pane').hidden = side !== 'log';
    $('log-tools').hidden = side !== 'log';
    $('history').hidden = side !== 'history';
    if (side === 'history') this.history.load();
  }

  learnHistory(msg) {
    const st = this.states.get(msg.name);
    if (!st || st.version !== msg.version || st.value === undefined) return;
    st.historyEntries = msg.entries || [];
  }

  viewVersion(name, version) {
    const st = this.states.get(name);
    if (!st) return;
    if (name !== this.selected) this.select(name);
    if (version === st.version) {
      this.showLive();
      return;
    }
    const snap = st.snapshots.get(version);
    if (snap !== undefined) {
      this.showVersion(name, version, snap);
      return;
    }
    this.request({ type: 'history', name }, (m) => {
      if (m.type !== 'history') {
        this.toast(`Cannot load history: ${m.message || m.code}`, 'error');
        return;
      }
      if (m.version !== st.version || st.value === undefined) {
        this.toast(`${name} changed while loading its history; try again.`, 'warn');
        return;
      }
      let value;
      try {
        value = rewind(st.value, st.version, m.entries || [], version);
      } catch (e) {
        this.toast(`Cannot rebuild v${version}: ${e.message}`, 'error');
        return;
      }
      if (value === undefined) {
        this.toast(`v${version} of ${name} is no longer in the server's history.`, 'warn');
        return;
      }
      st.snapshots.set(version, value);
      this.showVersion(name, version, value);
    });
  }

  showVersion(name, version, value) {
    this.viewing = { name, version, value };
    this.schedule({ main: true });
    if (this.side === 'history') this.history.render();
  }

  showLive() {
    if (!this.viewing) return;
    this.viewing = null;
    this.log.select(null);
    this.schedule({ main: true });
    if (this.side === 'history') this.history.render();
  }

  // ---- rendering --------------------------------------------------------

  schedule(what) {
    this.dirty = { ...(this.dirty || {}), ...what };
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const d = this.dirty;
      this.dirty = null;
      this.render(d);
    });
  }

  render(d) {
    if (d.all || d.states) renderStates($('states'), this);
    if (d.all) {
      renderClients($('clients'), $('clients-count'), this);
      renderBanners($('banners'), this);
      this.log.setMulti(this.states.size > 1);
    }
    if (d.all || d.main) this.renderMain();
    const st = this.states.get(this.selected);
    const invalid = [...this.states.values()].some((s) => s.status === 'invalid');
    document.title = `${invalid ? '⚠ ' : ''}${st ? `${st.name} v${st.version} · ` : ''}MirrorState`;
  }

  renderMain() {
    const st = this.states.get(this.selected);
    const head = clear($('state-head'));
    const flash = [...this.flashes];
    this.flashes.clear();
    if (!st) {
      head.append(h('span.title', { text: 'No state selected' }));
      this.tree.render({ name: '', exists: false, emptyText: this.conn.connected ? 'No states are mirrored by this server.' : 'Waiting for the server…' });
      $('viewing').hidden = true;
      return;
    }
    const status = st.status || 'unknown';
    head.append(
      h('span.title', { text: st.name }),
      h('span.ver', { text: `v${st.version}`, title: 'version (per server run)' }),
      h(`span.status.s-${status}`, { text: status.replace('_', ' ') }),
      h('span.file', { text: st.file ? ltr(st.file) : '', title: st.file || '' }));
    const v = this.viewing && this.viewing.name === st.name ? this.viewing : null;
    $('viewing').hidden = !v;
    $('center').classList.toggle('historic', !!v);
    if (v) {
      $('viewing-text').textContent = `Viewing ${st.name} at v${v.version} (read-only); live is v${st.version}.`;
      $('view-revert').textContent = `Revert to v${v.version}`;
      const marks = st.value !== undefined ? diff(v.value, st.value).map((o) => o.path) : [];
      $('viewing-text').textContent += marks.length ? ` ${marks.length} difference${marks.length === 1 ? '' : 's'} marked.` : ' Same as live.';
      this.tree.render({ name: `${st.name}@`, value: v.value, exists: true, readOnly: true, flash: [], marks });
    } else {
      this.tree.render({
        name: st.name,
        value: st.value,
        exists: st.exists !== false && st.value !== undefined,
        readOnly: !this.conn.connected,
        emptyText: st.exists === false ? `${st.file || st.name} does not exist yet. It appears here once an app or an agent creates it.` : 'Loading…',
        flash,
      });
    }
  }

  toast(text, level = 'info') {
    const box = $('toasts');
    const t = h(`div.toast.t-${level}`, { role: level === 'error' ? 'alert' : 'status' }, h('span.t-time', { text: clock(new Date()) }), h('span', { text }));
    box.append(t);
    setTimeout(() => t.classList.add('gone'), level === 'error' ? 7000 : 3500);
    setTimeout(() => t.remove(), level === 'error' ? 7600 : 4100);
    while (box.children.length > 4) box.firstChild.remove();
  }
}

export const app = new App();
window.mirrorstatePanel = app; // for debugging from the console
