// JSON Pointer (RFC 6901) and JSON Patch (RFC 6902) on plain JSON values.
//
// Values are treated as immutable: applyPatch never mutates its input and
// returns a new document that shares every untouched subtree with the old
// one, so an identity check (a === b) tells unchanged parts apart cheaply.
// Apply is all-or-nothing: on failure it throws and the input is untouched.

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/** Error thrown by applyPatch. `code` is "invalid_patch" (malformed op) or
 * "conflict" (well-formed, but does not apply to this document); `index` is
 * the failing op's position. */
export class PatchError extends Error {
  constructor(code, message, index) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
    this.index = index;
  }
}

const invalid = (msg, i) => new PatchError('invalid_patch', msg, i);
const conflict = (msg, i) => new PatchError('conflict', msg, i);

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep equality of JSON values; shares short-circuit on identity. */
export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!hasOwn(b, k) || !deepEqual(a[k], b[k])) return false;
  return true;
}

/** Sets an own data property, also for keys like "__proto__". */
function defineKey(obj, key, value) {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Shallow copy of an object or array that keeps "__proto__" as a key. */
function shallowCopy(v) {
  if (Array.isArray(v)) return v.slice();
  const out = {};
  for (const k of Object.keys(v)) defineKey(out, k, v[k]);
  return out;
}

/** Parses a JSON Pointer into its unescaped reference tokens.
 * Throws PatchError("invalid_patch") on bad syntax. */
export function parsePointer(ptr) {
  if (typeof ptr !== 'string') throw invalid('pointer is not a string');
  if (ptr === '') return [];
  if (ptr[0] !== '/') throw invalid(`pointer "${ptr}" does not start with "/"`);
  return ptr.slice(1).split('/').map((t) => {
    if (/~[^01]|~$/.test(t)) throw invalid(`pointer "${ptr}" has a bad "~" escape`);
    return t.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

/** Builds a JSON Pointer from reference tokens (strings or numbers). */
export function formatPointer(tokens) {
  let out = '';
  for (const t of tokens) out += '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1');
  return out;
}

function arrayIndex(arr, token, forAdd, ptr) {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw conflict(`"${token}" is not an array index in "${ptr}"`);
  const i = Number(token);
  if (forAdd ? i > arr.length : i >= arr.length) throw conflict(`index ${i} out of range in "${ptr}"`);
  return i;
}

/** Returns the value a pointer names, or undefined if it names nothing.
 * Throws PatchError("invalid_patch") if the pointer is malformed. */
export function getPointer(doc, ptr) {
  let cur = doc;
  for (const t of parsePointer(ptr)) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length) return undefined;
      cur = cur[Number(t)];
    } else if (isObject(cur)) {
      if (!hasOwn(cur, t)) return undefined;
      cur = cur[t];
    } else return undefined;
  }
  return cur;
}

function lookup(doc, tokens, ptr) {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false, ptr)];
    else if (isObject(cur) && hasOwn(cur, t)) cur = cur[t];
    else throw conflict(`path "${ptr}" not found`);
  }
  return cur;
}

// Returns a copy of doc with the container at tokens[0..n-1] replaced by
// fn(container), copying only the spine down to it.
function updateIn(doc, tokens, depth, ptr, fn) {
  if (depth === tokens.length - 1) return fn(doc);
  const t = tokens[depth];
  if (Array.isArray(doc)) {
    const i = arrayIndex(doc, t, false, ptr);
    const copy = doc.slice();
    copy[i] = updateIn(doc[i], tokens, depth + 1, ptr, fn);
    return copy;
  }
  if (isObject(doc) && hasOwn(doc, t)) {
    const copy = shallowCopy(doc);
    defineKey(copy, t, updateIn(doc[t], tokens, depth + 1, ptr, fn));
    return copy;
  }
  throw conflict(`path "${ptr}" not found`);
}

function addAt(doc, tokens, ptr, value) {
  if (tokens.length === 0) return value;
  const last = tokens[tokens.length - 1];
  return updateIn(doc, tokens, 0, ptr, (parent) => {
    if (Array.isArray(parent)) {
      const i = arrayIndex(parent, last, true, ptr);
      const copy = parent.slice();
      copy.splice(i, 0, value);
      return copy;
    }
    if (isObject(parent)) {
      const copy = shallowCopy(parent);
      defineKey(copy, last, value);
      return copy;
    }
    throw conflict(`parent of "${ptr}" is not a container`);
  });
}

function removeAt(doc, tokens, ptr) {
  if (tokens.length === 0) throw conflict('cannot remove the whole document');
  const last = tokens[tokens.length - 1];
  return updateIn(doc, tokens, 0, ptr, (parent) => {
    if (Array.isArray(parent)) {
      const i = arrayIndex(parent, last, false, ptr);
      const copy = parent.slice();
      copy.splice(i, 1);
      return copy;
    }
    if (isObject(parent) && hasOwn(parent, last)) {
      const copy = {};
      for (const k of Object.keys(parent)) if (k !== last) defineKey(copy, k, parent[k]);
      return copy;
    }
    throw conflict(`path "${ptr}" not found`);
  });
}

function replaceAt(doc, tokens, ptr, value) {
  if (tokens.length === 0) return value;
  const last = tokens[tokens.length - 1];
  return updateIn(doc, tokens, 0, ptr, (parent) => {
    if (Array.isArray(parent)) {
      const i = arrayIndex(parent, last, false, ptr);
      const copy = parent.slice();
      copy[i] = value;
      return copy;
    }
    if (isObject(parent) && hasOwn(parent, last)) {
      const copy = shallowCopy(parent);
      defineKey(copy, last, value);
      return copy;
    }
    throw conflict(`path "${ptr}" not found`);
  });
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Checks that one op is well-formed; throws PatchError("invalid_patch"). */
export function validateOp(op, i) {
  if (!isObject(op)) throw invalid(`op ${i} is not an object`, i);
  if (!OPS.has(op.op)) throw invalid(`op ${i}: unknown op ${JSON.stringify(op.op)}`, i);
  try {
    parsePointer(op.path);
    if (op.op === 'move' || op.op === 'copy') parsePointer(op.from);
  } catch (e) {
    throw invalid(`op ${i} (${op.op}): ${e.message}`, i);
  }
  if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !hasOwn(op, 'value')) {
    throw invalid(`op ${i} (${op.op} ${op.path}): missing "value"`, i);
  }
}

/** Applies one op; returns the new document. Throws PatchError. */
export function applyOp(doc, op, i = 0) {
  validateOp(op, i);
  const ptr = op.path;
  const tokens = parsePointer(ptr);
  try {
    switch (op.op) {
      case 'add': return addAt(doc, tokens, ptr, op.value);
      case 'remove': return removeAt(doc, tokens, ptr);
      case 'replace': lookup(doc, tokens, ptr); return replaceAt(doc, tokens, ptr, op.value);
      case 'copy': return addAt(doc, tokens, ptr, lookup(doc, parsePointer(op.from), op.from));
      case 'move': {
        const from = parsePointer(op.from);
        if (op.from === ptr) { lookup(doc, from, op.from); return doc; }
        if (ptr.startsWith(op.from + '/')) throw conflict(`cannot move "${op.from}" into itself`);
        const value = lookup(doc, from, op.from);
        return addAt(removeAt(doc, from, op.from), tokens, ptr, value);
      }
      case 'test':
        if (!deepEqual(lookup(doc, tokens, ptr), op.value)) throw conflict(`test failed at "${ptr}"`);
        return doc;
    }
  } catch (e) {
    if (e instanceof PatchError) {
      const err = new PatchError(e.code, `op ${i} (${op.op} ${ptr}): ${e.message}`, i);
      throw err;
    }
    throw e;
  }
  return doc;
}

/** Applies a patch (an array of ops) all-or-nothing and returns the new
 * document; the input is never mutated. Throws PatchError on failure. */
export function applyPatch(doc, ops) {
  if (!Array.isArray(ops)) throw invalid('patch is not an array');
  for (let i = 0; i < ops.length; i++) validateOp(ops[i], i);
  let cur = doc;
  for (let i = 0; i < ops.length; i++) cur = applyOp(cur, ops[i], i);
  return cur;
}

/** Returns a patch that turns a into b, op for op what the server's engine
 * yields: a's keys in order (recursion if kept, "remove" if gone), then
 * "add" for keys only in b (in b's order); arrays by common prefix and
 * suffix, then element by element, removals from the end, so one insert or
 * delete in a long array is one op. Equal values give []. */
export function diff(a, b, path = '', ops = []) {
  if (a === b) return ops;
  if (Array.isArray(a) && Array.isArray(b)) {
    let pre = 0;
    while (pre < a.length && pre < b.length && deepEqual(a[pre], b[pre])) pre++;
    let suf = 0;
    while (suf < a.length - pre && suf < b.length - pre &&
           deepEqual(a[a.length - 1 - suf], b[b.length - 1 - suf])) suf++;
    const la = a.length - pre - suf, lb = b.length - pre - suf;
    const common = Math.min(la, lb);
    for (let i = 0; i < common; i++) diff(a[pre + i], b[pre + i], `${path}/${pre + i}`, ops);
    for (let i = la - 1; i >= common; i--) ops.push({ op: 'remove', path: `${path}/${pre + i}` });
    for (let i = common; i < lb; i++) ops.push({ op: 'add', path: `${path}/${pre + i}`, value: b[pre + i] });
    return ops;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      const p = path + formatPointer([k]);
      if (hasOwn(b, k)) diff(a[k], b[k], p, ops);
      else ops.push({ op: 'remove', path: p });
    }
    for (const k of Object.keys(b)) {
      if (!hasOwn(a, k)) ops.push({ op: 'add', path: path + formatPointer([k]), value: b[k] });
    }
    return ops;
  }
  if (!deepEqual(a, b)) ops.push({ op: 'replace', path, value: b });
  return ops;
}
