// JSON as the tests see it: the file format, time stamps, "subset" matching
// of messages, and an independent JSON Patch for clients' replicas.

import assert from 'node:assert/strict';

/** The file format: exactly what JavaScript prints. */
export const pretty = (v) => JSON.stringify(v, null, 2) + '\n';

/** A time stamp as the server writes them (history, watch, event log):
 * UTC with milliseconds, e.g. 2026-01-02T03:04:05.678Z. */
export const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Deep "subset" match: every key of `pattern` is present in `value` and
 * matches; arrays match element by element and in length; a function is a
 * predicate.
 */
export function matches(value, pattern) {
  if (typeof pattern === 'function') return !!pattern(value);
  if (pattern === null || typeof pattern !== 'object') return Object.is(value, pattern);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) return false;
    return pattern.every((p, i) => matches(value[i], p));
  }
  return Object.keys(pattern).every((k) => matches(value[k], pattern[k]));
}

/** A pattern or predicate, for messages. */
export const describe = (p) => (typeof p === 'function' ? p.toString() : JSON.stringify(p));

function decodePointer(p) {
  if (p === '') return [];
  assert.ok(p.startsWith('/'), `bad pointer ${p}`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies RFC 6902 ops to a deep copy of `doc` and returns the result
 * (throws on failure). Independent of the client's and the server's
 * engines, so it can check them. */
export function applyPatch(doc, ops) {
  let root = structuredClone(doc);
  const parentOf = (p) => {
    const toks = decodePointer(p);
    const last = toks.pop();
    let node = root;
    for (const t of toks) {
      if (node === null || typeof node !== 'object' || !(t in node)) throw new Error(`path not found: ${p}`);
      node = node[t];
    }
    return [node, last];
  };
  const get = (p) => {
    let node = root;
    for (const t of decodePointer(p)) {
      if (node === null || typeof node !== 'object' || !(t in node)) throw new Error(`path not found: ${p}`);
      node = node[t];
    }
    return node;
  };
  const add = (p, v) => {
    if (p === '') { root = v; return; }
    const [parent, key] = parentOf(p);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!(i >= 0 && i <= parent.length)) throw new Error(`bad index ${p}`);
      parent.splice(i, 0, v);
    } else parent[key] = v;
  };
  const remove = (p) => {
    const [parent, key] = parentOf(p);
    if (!(key in parent)) throw new Error(`path not found: ${p}`);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  };
  for (const op of ops) {
    switch (op.op) {
      case 'add': add(op.path, structuredClone(op.value)); break;
      case 'remove': remove(op.path); break;
      case 'replace':
        if (op.path === '') { root = structuredClone(op.value); break; }
        get(op.path);
        {
          const [parent, key] = parentOf(op.path);
          parent[Array.isArray(parent) ? Number(key) : key] = structuredClone(op.value);
        }
        break;
      case 'move': { const v = get(op.from); remove(op.from); add(op.path, v); break; }
      case 'copy': add(op.path, structuredClone(get(op.from))); break;
      case 'test': assert.deepStrictEqual(get(op.path), op.value); break;
      default: throw new Error(`unknown op ${op.op}`);
    }
  }
  return root;
}
