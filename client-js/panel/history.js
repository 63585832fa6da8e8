// The History tab: the server's history ring for the selected state
// (newest first), each version viewable, each change undoable (later
// changes kept); the oldest kept version can be reset to.

import { h, clear, clock, originKind } from './util.js';
import { changeLines } from './log.js';
import { describe } from './changes.js';

export class HistoryView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.data = null; // last history answer for app.selected
    this.loading = false;
    this.timer = null;
  }

  // Asks for the ring of the selected state (coalesced).
  load() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const name = this.app.selected;
      if (!name) return;
      this.loading = true;
      this.app.request({ type: 'history', name }).then((msg) => {
        this.loading = false;
        if (msg.type === 'history' && msg.name === name) {
          this.data = msg;
        } else {
          this.data = { name, error: msg.message || msg.code };
        }
        if (name === this.app.selected) this.render();
      });
      this.render();
    }, 60);
  }

  render() {
    const name = this.app.selected;
    clear(this.root);
    if (!name) return;
    const d = this.data && this.data.name === name ? this.data : null;
    if (!d) {
      this.root.append(h('div.empty', { text: this.loading ? 'Loading history…' : 'No history loaded.' }));
      return;
    }
    if (d.error) {
      this.root.append(h('div.empty', { text: `History unavailable: ${d.error}` }));
      return;
    }
    const entries = d.entries || [];
    const st = this.app.states.get(name);
    const current = st ? st.version : d.version;
    if (!entries.length) {
      this.root.append(h('div.empty', { text: `No changes to ${name} in this server run yet (v${current}).` }));
      return;
    }
    const viewing = this.app.viewing && this.app.viewing.name === name ? this.app.viewing.version : null;
    const list = h('ol.hist');
    // Old values for display: the panel's snapshot before each version if it
    // has one, else the value the inverse op restores.
    for (const e of [...entries].reverse()) {
      const before = st && st.snapshots.get(e.version - 1);
      let changes;
      const initial = e.version === 1 && !(e.inverse || []).length;
      if (initial) changes = [];
      else if (before !== undefined) changes = describe(before, e.ops || []).changes;
      else changes = (e.ops || []).map((op, i) => withInverseOld(op, e.inverse || [], i));
      const isCurrent = e.version === current;
      const { kind, label } = originKind(e.origin);
      list.append(h(`li.he${isCurrent ? '.current' : ''}${viewing === e.version ? '.selected' : ''}`, {
        dataset: { version: e.version },
        title: `View ${name} at v${e.version}`,
        onclick: () => this.app.viewVersion(name, e.version),
      },
      h('div.le-head', null,
        h('span.le-ver', { text: `v${e.version}` }),
        h('span.le-time', { text: clock(e.time), title: e.time }),
        h(`span.badge.o-${kind}`, { text: label }),
        h('span.grow'),
        isCurrent
          ? h('span.cur', { text: 'current' })
          : null,
        initial
          ? null
          : h('button.btn.small.undo', {
            type: 'button',
            text: `Undo v${e.version}`,
            title: `Undo the change made at v${e.version}, keeping every later change (a new change, written to the file)`,
            onclick: (ev) => { ev.stopPropagation(); this.app.undo(name, e.version); },
          })),
      initial ? h('div.le-notice', { text: 'the first value in this server run' }) : h('div.le-diff', null, changeLines(changes, 6))));
    }
    const oldest = entries[0].version;
    if (oldest > 1) {
      list.append(h('li.he.base', { dataset: { version: oldest - 1 }, onclick: () => this.app.viewVersion(name, oldest - 1) },
        h('div.le-head', null, h('span.le-ver', { text: `v${oldest - 1}` }), h('span.muted', { text: 'before the oldest kept change' }), h('span.grow'),
          h('button.btn.small.reset', { type: 'button', text: `Reset to v${oldest - 1}`, title: `Make ${name} what it was at v${oldest - 1}, discarding every change since`, onclick: (ev) => { ev.stopPropagation(); this.app.reset(name, oldest - 1); } }))));
    }
    this.root.append(h('div.hist-head', null,
      h('span', { text: `${entries.length} change${entries.length === 1 ? '' : 's'} kept · current v${current}` }),
      h('span.grow'),
      h('button.btn.small', { type: 'button', text: 'Refresh', onclick: () => this.load() })), list);
  }
}

function withInverseOld(op, inverse, i) {
  const c = { op: op.op, path: op.path, value: op.value, from: op.from };
  // Inverse ops undo in reverse order; find the one restoring this path.
  const inv = inverse.find((x) => x.path === op.path && (x.op === 'replace' || x.op === 'add')) || inverse[inverse.length - 1 - i];
  if ((op.op === 'replace' || op.op === 'remove') && inv && 'value' in inv) {
    c.old = inv.value;
    c.hadOld = true;
  }
  return c;
}
