// The event log: every change with its time, origin, version and a
// readable diff (path: old -> new), notices (invalid file, removed file,
// reconnects) and the errors pages report. Filter by origin; click a change
// to view that version.

import { h, clear, clock, preview, originKind, prefs } from './util.js';

const MAX = 2000;
export const KINDS = ['file', 'client', 'panel', 'api', 'page', 'notice'];
const KIND_LABEL = { notice: 'notices', page: 'page errors' };

export function changeLines(changes, limit = 12) {
  const lines = [];
  for (const c of changes.slice(0, limit)) {
    const path = h('span.d-path', { text: c.path === '' ? '(root)' : c.path });
    switch (c.op) {
      case 'add':
        lines.push(c.hadOld
          ? h('div.d', null, path, ': ', h('span.d-old', { text: preview(c.old) }), ' → ', h('span.d-new', { text: preview(c.value) }))
          : h('div.d.d-add', null, h('span.d-sign', { text: '+' }), path, ': ', h('span.d-new', { text: preview(c.value) })));
        break;
      case 'remove':
        lines.push(h('div.d.d-rm', null, h('span.d-sign', { text: '−' }), path, c.hadOld ? [': ', h('span.d-old', { text: preview(c.old) })] : null));
        break;
      case 'replace':
        lines.push(h('div.d', null, path, ': ', h('span.d-old', { text: c.hadOld === false ? '∅' : preview(c.old) }), ' → ', h('span.d-new', { text: preview(c.value) })));
        break;
      case 'move':
      case 'copy':
        lines.push(h('div.d', null, h('span.d-sign', { text: c.op === 'move' ? '⇢' : '⧉' }), h('span.d-path', { text: c.from }), ` ${c.op} to `, path,
          c.value !== undefined ? [': ', h('span.d-new', { text: preview(c.value) })] : null));
        break;
      case 'test':
        lines.push(h('div.d.d-test', null, h('span.d-sign', { text: '?' }), path, ' = ', h('span', { text: preview(c.value) })));
        break;
      default:
        lines.push(h('div.d', null, `${c.op} `, path));
    }
  }
  if (changes.length > limit) lines.push(h('div.d.d-more', { text: `… ${changes.length - limit} more change${changes.length - limit === 1 ? '' : 's'}` }));
  if (!changes.length) lines.push(h('div.d.d-more', { text: 'no change' }));
  return lines;
}

export class LogView {
  // onSelect(entry) when a change entry is clicked
  constructor(list, filterBar, tools, { onSelect }) {
    this.list = list;
    this.filterBar = filterBar;
    this.tools = tools;
    this.onSelect = onSelect;
    this.entries = [];
    this.seq = 0;
    this.hidden = new Set(parseList(prefs.get('mirrorstate.log.hidden')));
    this.stateFilter = null; // null = all states
    this.multi = false;
    this.selected = null;
    this.counts = Object.fromEntries(KINDS.map((k) => [k, 0]));
    this.buildFilters();
  }

  buildFilters() {
    clear(this.filterBar);
    this.chips = {};
    for (const k of KINDS) {
      const chip = h(`button.chip.o-${k}`, {
        type: 'button',
        title: `Show or hide ${KIND_LABEL[k] || `changes with origin ${k}`}`,
        onclick: () => {
          if (this.hidden.has(k)) this.hidden.delete(k);
          else this.hidden.add(k);
          prefs.set('mirrorstate.log.hidden', JSON.stringify([...this.hidden]));
          this.refresh();
        },
      }, h('span.chip-label', { text: KIND_LABEL[k] || k }), h('span.chip-count', { text: '0' }));
      this.chips[k] = chip;
      this.filterBar.append(chip);
    }
    this.onlySelected = h('label.only', { title: 'Only show the selected state' },
      h('input', { type: 'checkbox', onchange: () => this.refresh() }), 'selected state only');
    this.onlySelected.hidden = true;
    clear(this.tools).append(this.onlySelected,
      h('button.btn.small.ghost', { type: 'button', text: 'Clear', title: 'Clear the log', onclick: () => this.clearAll() }));
    this.updateChips();
  }

  updateChips() {
    for (const k of KINDS) {
      this.chips[k].classList.toggle('off', this.hidden.has(k));
      this.chips[k].setAttribute('aria-pressed', String(!this.hidden.has(k)));
      this.chips[k].lastChild.textContent = String(this.counts[k]);
    }
  }

  clearAll() {
    this.entries = [];
    this.counts = Object.fromEntries(KINDS.map((k) => [k, 0]));
    this.refresh();
  }

  setStateFilter(name) {
    this.stateFilter = name;
    if (this.onlySelected.firstChild.checked) this.refresh();
  }

  setMulti(multi) {
    this.onlySelected.hidden = !multi;
    if (multi !== this.multi) {
      this.multi = multi;
      this.refresh();
    }
  }

  visible(e) {
    if (this.hidden.has(e.kind)) return false;
    if (this.multi && this.onlySelected.firstChild.checked && this.stateFilter !== null && e.name && e.name !== this.stateFilter) return false;
    return true;
  }

  // entry: {name, version, origin, changes}, {notice: text, level, name?}
  // or {pageError: {kind, message, stack?, url?, states?, client}, level}
  add(entry) {
    const e = { ...entry, id: ++this.seq, time: entry.time || new Date() };
    e.kind = e.pageError ? 'page' : e.notice ? 'notice' : originKind(e.origin).kind;
    if (!KINDS.includes(e.kind)) e.kind = 'api';
    this.entries.push(e);
    this.counts[e.kind]++;
    if (this.entries.length > MAX) {
      const gone = this.entries.shift();
      this.counts[gone.kind]--;
      if (gone.node) gone.node.remove();
    }
    this.updateChips();
    if (this.visible(e)) {
      const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 8;
      this.list.querySelector(':scope > .empty')?.remove();
      this.list.append(this.node(e));
      if (stick) this.list.scrollTop = this.list.scrollHeight;
    }
    return e;
  }

  refresh() {
    this.updateChips();
    clear(this.list);
    const shown = this.entries.filter((e) => this.visible(e));
    if (!shown.length) this.list.append(h('li.empty', { text: this.entries.length ? 'No entries match the filter.' : 'No changes yet. Edits from the app, the file, the panel and the API appear here.' }));
    for (const e of shown) this.list.append(this.node(e));
    this.list.scrollTop = this.list.scrollHeight;
  }

  select(entryId) {
    this.selected = entryId;
    for (const li of this.list.children) li.classList.toggle('selected', Number(li.dataset.id) === entryId);
  }

  node(e) {
    if (e.pageError) return this.pageErrorNode(e);
    const { label } = e.notice ? { label: e.level === 'error' ? 'error' : 'notice' } : originKind(e.origin);
    const head = h('div.le-head', null,
      h('span.le-time', { text: clock(e.time), title: new Date(e.time).toISOString() }),
      h(`span.badge.o-${e.kind}${e.level ? '.lvl-' + e.level : ''}`, { text: label }),
      this.multi && e.name ? h('span.le-name', { text: e.name }) : null,
      e.version !== undefined ? h('span.le-ver', { text: `v${e.version}` }) : null,
      e.note ? h('span.le-note', { text: e.note }) : null);
    const body = e.notice
      ? h('div.le-notice', { text: e.notice })
      : h('div.le-diff', null, changeLines(e.changes || []));
    const li = h(`li.le${e.notice ? '.notice' : ''}${e.id === this.selected ? '.selected' : ''}`, { dataset: { id: e.id, origin: e.origin || '', version: e.version ?? '' } }, head, body);
    if (!e.notice) {
      li.title = `Click to view ${e.name} at v${e.version}`;
      li.tabIndex = 0;
      const pick = () => { this.select(e.id); this.onSelect(e); };
      li.addEventListener('click', pick);
      li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') pick(); });
    }
    e.node = li;
    return li;
  }

  pageErrorNode(e) {
    const p = e.pageError;
    const what = { error: 'uncaught error', unhandledrejection: 'unhandled rejection', console: 'console.error' }[p.kind] || p.kind;
    const versions = p.states ? Object.entries(p.states).map(([n, v]) => `${n} v${v}`).join(', ') : '';
    const head = h('div.le-head', null,
      h('span.le-time', { text: clock(e.time), title: new Date(e.time).toISOString() }),
      h('span.badge.o-page.lvl-error', { text: 'page error' }),
      p.client ? h('span.le-name', { text: p.client, title: 'the client that reported it' }) : null,
      h('span.le-note', { text: what }));
    const body = h('div.le-page', null,
      h('div.pe-msg', { text: p.message }),
      h('div.pe-where.muted', { text: [p.url, versions && `showing ${versions}`].filter(Boolean).join(' · ') }),
      p.stack ? h('details.pe-stack', null, h('summary', { text: 'stack' }), h('pre', { text: p.stack })) : null);
    const li = h(`li.le.page-error${e.id === this.selected ? '.selected' : ''}`, { dataset: { id: e.id, client: p.client || '', kind: p.kind } }, head, body);
    e.node = li;
    return li;
  }
}

function parseList(text) {
  try {
    const v = JSON.parse(text || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}
