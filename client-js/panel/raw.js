// The raw JSON editor: the whole state in a textarea, validated as you
// type (with the parse error's line and column), applied as one `set`.

import { h, clear, jsonError } from './util.js';
import { deepEqual } from 'mirrorstate-client/patch';

export class RawEditor {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.name = null;
    this.base = null; // version the text was loaded from
    this.dirty = false;
    this.parsed = undefined;
    this.text = h('textarea.raw-text', {
      spellcheck: false,
      autocomplete: 'off',
      'aria-label': 'Raw JSON of the state',
      oninput: () => { this.dirty = true; this.validate(); },
      onscroll: () => { this.gutter.scrollTop = this.text.scrollTop; },
      onkeydown: (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.applyEdit(); }
        if (e.key === 'Tab' && !e.shiftKey) {
          e.preventDefault();
          document.execCommand('insertText', false, '  ');
        }
      },
    });
    this.gutter = h('pre.raw-gutter', { 'aria-hidden': 'true' });
    this.lines = 0;
    this.errLine = null;
    this.status = h('div.raw-status', { role: 'status' });
    this.stale = h('div.raw-stale', { hidden: true });
    this.applyBtn = h('button.btn.primary', { type: 'button', text: 'Apply', title: 'Replace the state with this JSON (Ctrl+Enter)', onclick: () => this.applyEdit() });
    this.resetBtn = h('button.btn', { type: 'button', text: 'Discard edits', onclick: () => this.load(true) });
    this.formatBtn = h('button.btn', { type: 'button', text: 'Format', onclick: () => this.format() });
    root.append(this.stale, h('div.raw-body', null, this.gutter, this.text), h('div.raw-bar', null, this.status, h('span.grow'), this.formatBtn, this.resetBtn, this.applyBtn));
  }

  // Called when the selected state or its value changes.
  sync() {
    const st = this.app.states.get(this.app.selected);
    if (!st) return;
    // Serializing a large state on every change is wasted while hidden.
    if (this.root.hidden) {
      if (!this.dirty || this.name !== st.name) this.name = null;
      return;
    }
    if (this.name !== st.name || !this.dirty) {
      this.load(true);
      return;
    }
    const changed = st.version !== this.base;
    this.stale.hidden = !changed;
    if (changed) {
      clear(this.stale).append(
        `${st.name} changed to v${st.version} since you started editing (v${this.base}). Applying replaces the whole state. `,
        h('button.link', { text: 'Load the current state', onclick: () => this.load(true) }));
    }
  }

  load(force) {
    const st = this.app.states.get(this.app.selected);
    if (!st) return;
    if (this.dirty && !force && this.name === st.name) return;
    this.name = st.name;
    this.base = st.version;
    this.dirty = false;
    this.text.value = st.exists === false ? '' : JSON.stringify(st.value, null, 2) + '\n';
    this.stale.hidden = true;
    this.validate();
  }

  // Line numbers beside the textarea; the error's line is marked.
  numberLines(errLine) {
    const n = this.text.value.split('\n').length;
    if (n !== this.lines || errLine !== this.errLine) {
      this.lines = n;
      this.errLine = errLine;
      clear(this.gutter);
      const w = String(n).length;
      for (let i = 1; i <= n; i++) {
        const t = String(i).padStart(w) + '\n';
        this.gutter.append(i === errLine ? h('span.err-line', { text: t }) : t);
      }
    }
    this.gutter.scrollTop = this.text.scrollTop;
  }

  validate() {
    const src = this.text.value;
    clear(this.status);
    this.text.classList.remove('invalid');
    try {
      this.parsed = JSON.parse(src);
    } catch (e) {
      this.parsed = undefined;
      const err = jsonError(src, e);
      this.text.classList.add('invalid');
      const where = err.line ? `line ${err.line}, column ${err.column}` : 'position unknown';
      const lineText = err.line ? src.split('\n')[err.line - 1] ?? '' : null;
      this.status.append(
        h('span.bad', { text: `✗ ${where}: ${err.message}` }),
        err.position !== null ? h('button.link', { text: 'go to error', onclick: () => this.goTo(err.position) }) : null);
      if (lineText !== null) {
        this.status.append(h('pre.raw-excerpt', null, h('span.code', { text: lineText.length > 200 ? lineText.slice(0, 200) + '…' : lineText || ' ' }), '\n',
          h('span.caret', { text: lineText.slice(0, err.column - 1).replace(/[^\t]/g, ' ') + '^' })));
      }
      this.applyBtn.disabled = true;
      this.numberLines(err.line);
      return;
    }
    this.numberLines(null);
    const st = this.app.states.get(this.name);
    const same = st && st.exists !== false && deepEqual(this.parsed, st.value);
    this.status.append(h('span.good', { text: same ? '✓ valid JSON, same as the live state' : '✓ valid JSON' }),
      this.dirty && !same ? h('span.muted', { text: ' · Ctrl+Enter applies' }) : null);
    this.applyBtn.disabled = !this.dirty || same || !this.app.connected;
  }

  goTo(pos) {
    this.text.focus();
    this.text.setSelectionRange(pos, Math.min(this.text.value.length, pos + 1));
  }

  format() {
    if (this.parsed === undefined) return;
    this.text.value = JSON.stringify(this.parsed, null, 2) + '\n';
    this.validate();
  }

  applyEdit() {
    this.validate();
    if (this.parsed === undefined || this.applyBtn.disabled) return;
    const ok = this.app.sendSet(this.name, this.parsed, () => {
      this.load(true);
    });
    if (ok) this.applyBtn.disabled = true;
  }
}
