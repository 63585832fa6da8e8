// The live JSON tree: one row per value, collapsible containers, scalars
// editable in place (click, type JSON, Enter), rows that flash when a
// change touches them.

import { h, clear, jsonType, preview } from './util.js';
import { formatPointer } from 'mirrorstate-client/patch';
import { parentPointer } from './changes.js';

const PAGE = 200; // children shown per container before "show more"

export class TreeView {
  // handlers: onReplace(pointer, value), onRemove(pointer), onAdd(pointer, value)
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    this.open = new Map(); // "state\u0000pointer" -> bool (explicit choice)
    this.limits = new Map(); // same key -> children shown
    this.rows = new Map(); // pointer -> row element (last render)
    this.editing = null; // {pointer} while an input is active
    this.deferred = null; // render args postponed while editing
    this.args = null;
  }

  key(pointer) {
    return `${this.args ? this.args.name : ''}\u0000${pointer}`;
  }

  isOpen(pointer, depth, size) {
    const v = this.open.get(this.key(pointer));
    if (v !== undefined) return v;
    return depth === 0 || (depth <= 2 && size <= 50);
  }

  // args: {name, value, exists, readOnly, flash: iterable of pointers}
  render(args) {
    if (this.editing) {
      // Keep the user's input; merge flashes and render when the edit ends.
      const flash = new Set([...(this.deferred ? this.deferred.flash || [] : []), ...(args.flash || [])]);
      this.deferred = { ...args, flash };
      return;
    }
    this.args = args;
    this.deferred = null;
    const scroll = this.root.scrollTop;
    const frag = document.createDocumentFragment();
    this.rows = new Map();
    if (!args.exists) {
      frag.append(h('div.empty', null, args.emptyText || 'This state does not exist yet.'));
    } else {
      this.renderValue(frag, args.value, '', null, 0, false);
    }
    clear(this.root).append(frag);
    this.root.classList.toggle('readonly', !!args.readOnly);
    this.root.scrollTop = scroll;
    if (args.flash) this.flash(args.flash);
    if (args.marks) this.mark(args.marks);
  }

  mark(pointers) {
    for (let p of pointers) {
      let row = this.rows.get(p);
      while (!row && p !== '') {
        p = parentPointer(p);
        row = this.rows.get(p);
      }
      if (row) row.classList.add('differs');
    }
  }

  rerender() {
    if (this.args) this.render({ ...this.args, flash: null });
  }

  flash(pointers) {
    for (let p of pointers) {
      let row = this.rows.get(p);
      while (!row && p !== '') {
        p = parentPointer(p);
        row = this.rows.get(p);
      }
      if (!row) continue;
      row.classList.remove('flash');
      void row.offsetWidth; // restart the animation
      row.classList.add('flash');
    }
  }

  setAll(open) {
    if (!this.args) return;
    const walk = (v, p) => {
      if (v && typeof v === 'object') {
        this.open.set(this.key(p), open || p === '');
        const keys = Array.isArray(v) ? v.keys() : Object.keys(v);
        for (const k of keys) walk(v[k], p + formatPointer([k]));
      }
    };
    walk(this.args.value, '');
    this.rerender();
  }

  renderValue(out, value, pointer, label, depth, isIndex) {
    const type = jsonType(value);
    const container = type === 'object' || type === 'array';
    const size = container ? (type === 'array' ? value.length : Object.keys(value).length) : 0;
    const open = container && this.isOpen(pointer, depth, size);
    const ro = this.args.readOnly;

    const row = h('div.row', { dataset: { path: pointer }, style: `--depth:${depth}` });
    row.append(container && size
      ? h('span.tw', { text: open ? '▾' : '▸', title: open ? 'Collapse' : 'Expand', onclick: () => this.toggle(pointer, !open) })
      : h('span.tw'));
    if (label !== null) {
      row.append(h(isIndex ? 'span.idx' : 'span.key', { text: isIndex ? label : JSON.stringify(label).slice(1, -1), title: pointer }));
      row.append(h('span.colon', { text: ': ' }));
    }
    if (container) {
      const brace = type === 'array' ? ['[', ']'] : ['{', '}'];
      const summary = type === 'array' ? `${size} item${size === 1 ? '' : 's'}` : `${size} key${size === 1 ? '' : 's'}`;
      if (!size) row.append(h('span.brace', { text: brace.join('') }));
      else if (open) row.append(h('span.brace', { text: brace[0], onclick: () => this.toggle(pointer, false) }), h('span.summary', { text: summary }));
      else row.append(h('span.peek', { text: preview(value, 90), onclick: () => this.toggle(pointer, true) }), h('span.summary', { text: summary }));
      if (!ro) {
        row.append(h('span.acts', null,
          h('button.act', { title: type === 'array' ? 'Append an item' : 'Add a key', text: '+', onclick: (e) => { e.stopPropagation(); this.startAdd(row, pointer, type, depth); } }),
          pointer !== '' ? h('button.act.del', { title: `Remove ${pointer}`, text: '×', onclick: (e) => { e.stopPropagation(); this.handlers.onRemove(pointer); } }) : null));
      }
    } else {
      const v = h(`span.v.${type}`, { text: type === 'string' ? JSON.stringify(value) : String(value) });
      if (!ro) {
        v.title = 'Click to edit (JSON)';
        v.addEventListener('click', () => this.startEdit(row, v, pointer, value));
      }
      row.append(v);
      if (!ro && pointer !== '') {
        row.append(h('span.acts', null,
          h('button.act.del', { title: `Remove ${pointer}`, text: '×', onclick: (e) => { e.stopPropagation(); this.handlers.onRemove(pointer); } })));
      }
    }
    out.append(row);
    this.rows.set(pointer, row);

    if (!open) return;
    const keys = type === 'array' ? [...value.keys()] : Object.keys(value);
    const limit = this.limits.get(this.key(pointer)) || PAGE;
    keys.slice(0, limit).forEach((k) => {
      this.renderValue(out, value[k], pointer + formatPointer([k]), type === 'array' ? String(k) : k, depth + 1, type === 'array');
    });
    if (keys.length > limit) {
      out.append(h('div.row.more', { style: `--depth:${depth + 1}` },
        h('span.tw'),
        h('button.link', {
          text: `show ${Math.min(PAGE, keys.length - limit)} more of ${keys.length - limit} hidden`,
          onclick: () => { this.limits.set(this.key(pointer), limit + PAGE); this.rerender(); },
        })));
    }
  }

  toggle(pointer, open) {
    this.open.set(this.key(pointer), open);
    this.rerender();
  }

  endEdit() {
    this.editing = null;
    const d = this.deferred;
    if (d) this.render(d);
  }

  startEdit(row, span, pointer, value) {
    if (this.editing) return;
    this.editing = { pointer };
    const text = JSON.stringify(value);
    const input = h('input.edit', { value: text, spellcheck: false, 'aria-label': `Edit ${pointer || 'root'}` });
    input.style.width = `${Math.max(8, Math.min(60, text.length + 2))}ch`;
    const err = h('span.edit-err');
    span.replaceWith(input);
    input.after(err);
    row.classList.add('editing');
    input.focus();
    input.select();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      row.classList.remove('editing');
      input.replaceWith(span);
      err.remove();
      this.endEdit();
    };
    input.addEventListener('input', () => {
      input.style.width = `${Math.max(8, Math.min(60, input.value.length + 2))}ch`;
      input.classList.remove('invalid');
      err.textContent = '';
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        finish();
      } else if (e.key === 'Enter') {
        e.preventDefault();
        let v;
        try {
          v = JSON.parse(input.value);
        } catch (ex) {
          input.classList.add('invalid');
          err.textContent = `not JSON: ${ex.message.replace(/^JSON\.parse: /, '')}${/^[^"\[{\d\-tfn]/.test(input.value.trim()) ? ' (strings need quotes)' : ''}`;
          return;
        }
        finish();
        this.handlers.onReplace(pointer, v);
      }
    });
    input.addEventListener('blur', () => setTimeout(finish, 0));
  }

  startAdd(row, pointer, type, depth) {
    if (this.editing) return;
    this.editing = { pointer };
    this.open.set(this.key(pointer), true);
    const keyInput = type === 'object' ? h('input.edit.key-in', { placeholder: 'key', spellcheck: false, 'aria-label': 'New key' }) : null;
    const valInput = h('input.edit', { placeholder: 'JSON value', spellcheck: false, 'aria-label': 'New value' });
    const err = h('span.edit-err');
    const addRow = h('div.row.adding', { style: `--depth:${depth + 1}` }, h('span.tw'),
      keyInput, keyInput ? h('span.colon', { text: ': ' }) : null, valInput, err);
    row.after(addRow);
    (keyInput || valInput).focus();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      addRow.remove();
      this.endEdit();
    };
    const commit = () => {
      let v;
      try {
        v = JSON.parse(valInput.value);
      } catch (ex) {
        valInput.classList.add('invalid');
        err.textContent = `not JSON: ${ex.message}`;
        valInput.focus();
        return;
      }
      if (keyInput && keyInput.value === '') {
        keyInput.classList.add('invalid');
        err.textContent = 'a key is needed';
        keyInput.focus();
        return;
      }
      const target = pointer + (keyInput ? formatPointer([keyInput.value]) : '/-');
      finish();
      this.handlers.onAdd(target, v);
    };
    for (const inp of [keyInput, valInput]) {
      if (!inp) continue;
      inp.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') { e.preventDefault(); finish(); }
        else if (e.key === 'Enter') {
          e.preventDefault();
          if (inp === keyInput) valInput.focus();
          else commit();
        }
      });
      inp.addEventListener('blur', () => setTimeout(() => {
        if (!addRow.contains(document.activeElement)) finish();
      }, 0));
    }
  }
}
