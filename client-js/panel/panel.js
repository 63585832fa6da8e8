// MirrorState devtools panel: the view. The protocol model (model.js: the
// client's connection in the "panel" role, every state's record) tells it
// what changed; this module renders and wires the panes: states and clients
// (sidebar.js), the live tree (tree.js), the raw editor (raw.js), the event
// log (log.js), history (history.js), banners (banner.js).

import { diff } from 'mirrorstate-client/patch';
import { PanelModel, serverOf } from './model.js';
import { TreeView } from './tree.js';
import { LogView } from './log.js';
import { HistoryView } from './history.js';
import { rewind } from './changes.js';
import { RawEditor } from './raw.js';
import { renderStates, renderClients } from './sidebar.js';
import { renderBanners } from './banner.js';
import { h, clear, clock, ltr, prefs } from './util.js';

const $ = (id) => document.getElementById(id);

class App {
  constructor() {
    this.selected = decodeURIComponent(location.hash.slice(1)) || prefs.get('mirrorstate.selected') || null;
    this.viewing = null; // {name, version, value} when showing an older version
    this.view = prefs.get('mirrorstate.view') === 'raw' ? 'raw' : 'tree';
    this.side = prefs.get('mirrorstate.side') === 'history' ? 'history' : 'log';
    this.flashes = new Set();
    this.frame = 0;

    this.tree = new TreeView($('tree'), {
      onReplace: (p, v) => this.model.patch(this.selected, [{ op: 'replace', path: p, value: v }]),
      onRemove: (p) => this.model.patch(this.selected, [{ op: 'remove', path: p }]),
      onAdd: (p, v) => this.model.patch(this.selected, [{ op: 'add', path: p, value: v }]),
    });
    this.log = new LogView($('log'), $('log-filters'), $('log-tools'), { onSelect: (e) => this.viewVersion(e.name, e.version) });
    this.history = new HistoryView($('history'), this);
    this.raw = new RawEditor($('raw'), this);
    // The page without its query: it may hold ?token=, and every client sees it.
    this.model = new PanelModel({ ...serverOf(location), page: location.origin + location.pathname }, {
      render: (d) => this.onModel(d),
      log: (entry) => this.log.add(entry),
      toast: (text, level) => this.toast(text, level),
      status: (s) => this.onStatus(s),
    });
    this.wire();
    this.log.refresh();
    setInterval(() => renderClients($('clients'), $('clients-count'), this), 15000);
  }

  // What the other modules read.
  get states() { return this.model.states; }
  get clients() { return this.model.clients; }
  get clientId() { return this.model.clientId; }
  get connected() { return this.model.connected; }
  get pageErrors() { return this.model.pageErrors; }
  request(msg) { return this.model.request(msg); }
  undo(name, version) { return this.model.undo(name, version); }
  reset(name, version) { return this.model.reset(name, version); }

  wire() {
    for (const b of document.querySelectorAll('[data-view]')) b.addEventListener('click', () => this.setView(b.dataset.view));
    for (const b of document.querySelectorAll('[data-side]')) b.addEventListener('click', () => this.setSide(b.dataset.side));
    $('expand-all').addEventListener('click', () => this.tree.setAll(true));
    $('collapse-all').addEventListener('click', () => this.tree.setAll(false));
    $('back-live').addEventListener('click', () => this.showLive());
    $('view-reset').addEventListener('click', () => this.viewing && this.reset(this.viewing.name, this.viewing.version));
    $('conn').addEventListener('click', () => this.model.retry());
    $('offline-retry').addEventListener('click', () => this.model.retry());
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

  // ---- the model -----------------------------------------------------------

  onModel(d) {
    if (d.hello) {
      $('server-info').textContent = `${this.model.server || 'mirrorstate'} · ${location.host}`;
      $('server-info').title = `session ${this.model.session}\nthis panel is client ${this.model.clientId}\n${this.model.url}`;
    }
    if (d.name === this.selected && d.flash) for (const f of d.flash) this.flashes.add(f);
    if (d.reverted) this.showLive();
    if (d.main || d.all) {
      this.raw.sync();
      if (this.side === 'history' && (!d.name || d.name === this.selected) && !d.all) this.history.load();
    }
    if (d.all || d.hello) {
      if (!this.selected || !this.states.has(this.selected)) this.select([...this.states.keys()].sort()[0] || null, true);
    }
    this.schedule(d);
  }

  onStatus(s) {
    const el = $('conn');
    el.dataset.state = s.state;
    clearInterval(this.countdown);
    const retryAt = Date.now() + (s.retryIn || 0);
    const ever = this.model.everConnected;
    const text = () => ({
      connecting: ever ? 'reconnecting…' : 'connecting…',
      open: 'connected',
      waiting: `offline · retry in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))}s`,
      closed: 'closed',
    }[s.state]);
    $('conn-text').textContent = text();
    if (s.state === 'waiting') this.countdown = setInterval(() => { $('conn-text').textContent = text(); }, 250);
    el.title = s.state === 'waiting' ? `${s.reason || 'disconnected'}; click to retry now` : this.model.url;
    document.body.classList.toggle('offline', s.state !== 'open');
    // The offline bar only once a connection was lost (not while the first
    // attempt is still under way), or after a failed first attempt.
    $('offline').hidden = s.state === 'open' || (s.state === 'connecting' && !ever);
    if (s.state === 'waiting') {
      const refused = /^Refused/.test(s.reason || '');
      $('offline-text').textContent = ever && !refused
        ? `${s.reason || 'Connection lost'}. Showing the last known state; editing is off until the connection is back.`
        : refused
          ? `${s.reason}.${new URLSearchParams(location.search).has('token') ? ' Is the token in this URL right?' : ' Open the panel with ?token=… (the URL printed by mirrorstate serve).'}`
          : `Cannot connect to ${this.model.url}: refused or unreachable. Is mirrorstate running${new URLSearchParams(location.search).has('token') ? ', and is the token right' : ''}?`;
    }
    this.schedule({ main: true });
    if (s.state === 'waiting' || s.state === 'closed') {
      const edits = [...this.states.values()].reduce((n, st) => n + (st.handle ? st.handle.pending : 0), 0);
      if (edits && ever) this.toast(`Connection lost with ${edits} edit${edits === 1 ? '' : 's'} unconfirmed; they are sent again once reconnected.`, 'warn');
      this.raw.validate();
    }
  }

  sendSet(name, state, cb) {
    const done = this.model.set(name, state);
    if (!done) return false;
    done.then(cb);
    return true;
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
    this.request({ type: 'history', name }).then((m) => {
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
    const d = this.dirty || {};
    this.dirty = {
      all: d.all || what.all, main: d.main || what.main, states: d.states || what.states, clients: d.clients || what.clients,
    };
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
    if (d.clients && !d.all) renderClients($('clients'), $('clients-count'), this);
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
      this.tree.render({ name: '', exists: false, emptyText: this.connected ? 'No states are mirrored by this server.' : 'Waiting for the server…' });
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
      $('view-reset').textContent = `Reset to v${v.version}`;
      $('view-reset').title = `Make ${st.name} what it was at v${v.version} again, discarding every change made since (a new change, written to the file)`;
      const marks = st.value !== undefined ? diff(v.value, st.value).map((o) => o.path) : [];
      $('viewing-text').textContent += marks.length ? ` ${marks.length} difference${marks.length === 1 ? '' : 's'} marked.` : ' Same as live.';
      this.tree.render({ name: `${st.name}@`, value: v.value, exists: true, readOnly: true, flash: [], marks });
    } else {
      this.tree.render({
        name: st.name,
        value: st.value,
        exists: st.exists !== false && st.value !== undefined,
        readOnly: !this.connected,
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
