// Small DOM and formatting helpers shared by the panel's modules.

// h('div.row.selected', {title: 'x', onclick}, child, 'text', ...)
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const node = document.createElement(tag || 'div');
  if (classes.length) node.className = classes.join(' ');
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k === 'text') node.textContent = v;
      else if (k in node && k !== 'list' && k !== 'form') node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : String(c));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// One-line JSON for display, cut at `max` characters. Stops walking once
// it has enough, so a preview of a huge value stays cheap.
export function preview(value, max = 80) {
  if (value === undefined) return '∅';
  let out = '';
  const walk = (x) => {
    if (out.length > max) return;
    if (typeof x === 'string') {
      out += JSON.stringify(x.length > max ? x.slice(0, max) : x);
    } else if (x === null || typeof x !== 'object') {
      out += String(JSON.stringify(x) ?? x);
    } else if (Array.isArray(x)) {
      out += '[';
      for (let i = 0; i < x.length && out.length <= max; i++) {
        if (i) out += ',';
        walk(x[i]);
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      for (const k in x) {
        if (!Object.prototype.hasOwnProperty.call(x, k)) continue;
        if (out.length > max) break;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(k)}:`;
        walk(x[k]);
      }
      out += '}';
    }
  };
  walk(value);
  return out.length <= max ? out : `${out.slice(0, max - 1)}…`;
}

export function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

export function clock(date) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return '';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function ago(date, now = Date.now()) {
  const t = new Date(date).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${m % 60}m ago`;
  return `${Math.floor(hr / 24)}d ago`;
}

// Origin of a change -> {kind, label} for badges and filters.
export function originKind(origin) {
  if (!origin) return { kind: 'notice', label: 'notice' };
  if (origin === 'file') return { kind: 'file', label: 'file' };
  if (origin === 'panel') return { kind: 'panel', label: 'panel' };
  if (origin === 'api') return { kind: 'api', label: 'api' };
  if (origin.startsWith('client:')) return { kind: 'client', label: origin };
  return { kind: 'other', label: origin };
}

// Turns a JSON.parse error into {message, position, line, column}.
export function jsonError(text, err) {
  const msg = String(err && err.message || err);
  let pos = null;
  let m = /line (\d+) column (\d+)/.exec(msg);
  if (m) {
    const line = Number(m[1]);
    const column = Number(m[2]);
    return { message: cleanParseMessage(msg), line, column, position: offsetOf(text, line, column) };
  }
  m = /position (\d+)/.exec(msg);
  if (m) pos = Number(m[1]);
  else if (/end of (JSON )?input/i.test(msg)) pos = text.length;
  if (pos === null) return { message: cleanParseMessage(msg), line: null, column: null, position: null };
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return { message: cleanParseMessage(msg), line, column, position: pos };
}

function offsetOf(text, line, column) {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + column - 1);
}

function cleanParseMessage(msg) {
  return msg
    .replace(/^JSON\.parse: /, '')
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ at position \d+.*$/, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
}

// For paths shown in a right-to-left box (so the ellipsis eats the start):
// marks keep a leading "/" at the start.
export function ltr(text) {
  return `\u200e${text}\u200e`;
}

export function baseName(path) {
  if (!path) return '';
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

// localStorage that never throws: in a third-party iframe (the DevTools
// extension hosts the panel in one) storage may be denied; settings then
// simply last for the page's lifetime.
const memory = new Map();
export const prefs = {
  get(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return memory.has(key) ? memory.get(key) : null;
    }
  },
  set(key, value) {
    memory.set(key, String(value));
    try {
      window.localStorage.setItem(key, String(value));
    } catch { /* denied: kept in memory */ }
  },
};
