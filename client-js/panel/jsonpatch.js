// JSON Pointer (RFC 6901) and JSON Patch (RFC 6902) for the panel.
//
// Documents are treated as immutable: apply() returns a new document that
// shares every untouched subtree with the old one. That keeps snapshots of
// recent versions cheap, so the panel can show "the state at version N".

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function parsePointer(pointer) {
  if (pointer === '') return [];
  if (typeof pointer !== 'string' || pointer[0] !== '/') {
    throw new Error(`bad JSON Pointer ${JSON.stringify(pointer)}`);
  }
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function toPointer(tokens) {
  return tokens.map((t) => '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function parentPointer(pointer) {
  const i = pointer.lastIndexOf('/');
  return i <= 0 ? '' : pointer.slice(0, i);
}

// Sets an own, enumerable property even for a key like "__proto__".
function setKey(obj, key, value) {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function arrayIndex(arr, token, allowEnd) {
  if (token === '-' && allowEnd) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`bad array index "${token}"`);
  const i = Number(token);
  if (i > arr.length || (i === arr.length && !allowEnd)) throw new Error(`index ${i} out of range`);
  return i;
}

function child(node, token) {
  if (Array.isArray(node)) return node[arrayIndex(node, token, false)];
  if (isObject(node) && hasOwn(node, token)) return node[token];
  throw new Error(`path not found at "${token}"`);
}

function withChild(node, token, value) {
  if (Array.isArray(node)) {
    const copy = node.slice();
    copy[arrayIndex(node, token, false)] = value;
    return copy;
  }
  const copy = { ...node };
  setKey(copy, token, value);
  return copy;
}

export function getAt(doc, pointer) {
  let cur = doc;
  for (const t of typeof pointer === 'string' ? parsePointer(pointer) : pointer) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length) return undefined;
      cur = cur[Number(t)];
    } else if (isObject(cur) && hasOwn(cur, t)) {
      cur = cur[t];
    } else {
      return undefined;
    }
  }
  return cur;
}

export function has(doc, pointer) {
  const tokens = parsePointer(pointer);
  if (!tokens.length) return doc !== undefined;
  const parent = getAt(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return /^(0|[1-9][0-9]*)$/.test(last) && Number(last) < parent.length;
  return isObject(parent) && hasOwn(parent, last);
}

function updateAt(node, tokens, fn) {
  if (!tokens.length) return fn(node);
  const [head, ...rest] = tokens;
  return withChild(node, head, updateAt(child(node, head), rest, fn));
}

function addAt(doc, tokens, value) {
  if (!tokens.length) return value;
  const key = tokens[tokens.length - 1];
  return updateAt(doc, tokens.slice(0, -1), (parent) => {
    if (Array.isArray(parent)) {
      const copy = parent.slice();
      copy.splice(arrayIndex(parent, key, true), 0, value);
      return copy;
    }
    if (!isObject(parent)) throw new Error('parent is not a container');
    const copy = { ...parent };
    setKey(copy, key, value);
    return copy;
  });
}

function removeAt(doc, tokens) {
  if (!tokens.length) throw new Error('cannot remove the root');
  const key = tokens[tokens.length - 1];
  return updateAt(doc, tokens.slice(0, -1), (parent) => {
    if (Array.isArray(parent)) {
      const copy = parent.slice();
      copy.splice(arrayIndex(parent, key, false), 1);
      return copy;
    }
    if (!isObject(parent) || !hasOwn(parent, key)) throw new Error(`path not found at "${key}"`);
    const copy = { ...parent };
    delete copy[key];
    return copy;
  });
}

function replaceAt(doc, tokens, value) {
  if (!tokens.length) return value;
  const key = tokens[tokens.length - 1];
  return updateAt(doc, tokens.slice(0, -1), (parent) => {
    child(parent, key); // must exist
    return withChild(parent, key, value);
  });
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!hasOwn(b, k) || !deepEqual(a[k], b[k])) return false;
  return true;
}

// Applies one op; throws Error with a readable message if it does not apply.
export function applyOp(doc, op) {
  const tokens = parsePointer(op.path);
  switch (op.op) {
    case 'add': return addAt(doc, tokens, op.value);
    case 'remove': return removeAt(doc, tokens);
    case 'replace': return replaceAt(doc, tokens, op.value);
    case 'move': {
      const from = parsePointer(op.from);
      const value = getAt(doc, from);
      if (value === undefined) throw new Error(`move: ${op.from} not found`);
      if (op.path === op.from) return doc;
      return addAt(removeAt(doc, from), tokens, value);
    }
    case 'copy': {
      const value = getAt(doc, op.from);
      if (value === undefined) throw new Error(`copy: ${op.from} not found`);
      return addAt(doc, tokens, value);
    }
    case 'test':
      if (!deepEqual(getAt(doc, tokens), op.value)) throw new Error(`test failed at ${op.path}`);
      return doc;
    default:
      throw new Error(`unknown op ${JSON.stringify(op.op)}`);
  }
}

// Applies all ops or throws (the input document is never modified).
export function apply(doc, ops) {
  let cur = doc;
  ops.forEach((op, i) => {
    try {
      cur = applyOp(cur, op);
    } catch (e) {
      throw new Error(`op ${i} (${op.op} ${op.path}): ${e.message}`);
    }
  });
  return cur;
}

// A small structural diff: objects key by key, arrays element by element
// with trailing additions/removals. Good enough for display and for
// describing a whole replacement as readable changes.
export function diff(a, b, path = '') {
  if (deepEqual(a, b)) return [];
  if (isObject(a) && isObject(b)) {
    const ops = [];
    for (const k of Object.keys(a)) {
      if (!hasOwn(b, k)) ops.push({ op: 'remove', path: path + toPointer([k]) });
    }
    for (const k of Object.keys(b)) {
      const p = path + toPointer([k]);
      if (hasOwn(a, k)) ops.push(...diff(a[k], b[k], p));
      else ops.push({ op: 'add', path: p, value: b[k] });
    }
    return ops;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const ops = [];
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) ops.push(...diff(a[i], b[i], `${path}/${i}`));
    for (let i = a.length - 1; i >= n; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
    for (let i = n; i < b.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: b[i] });
    return ops;
  }
  return [{ op: 'replace', path, value: b }];
}

// Describes ops against the document they apply to, one entry per op,
// with the old value read before that op: {op, path, from?, old?, value?}.
// Returns {doc, changes}; if an op fails, the rest are described without
// old values and doc is the last good document.
export function describe(doc, ops) {
  const changes = [];
  let cur = doc;
  let ok = true;
  for (const op of ops) {
    const c = { op: op.op, path: op.path };
    if ('from' in op) c.from = op.from;
    if ('value' in op) c.value = op.value;
    if (ok) {
      if (op.op === 'move' || op.op === 'copy') c.value = getAt(cur, op.from);
      if (op.op === 'remove' || op.op === 'replace' || op.op === 'test') {
        c.hadOld = has(cur, op.path);
        c.old = getAt(cur, op.path);
      } else if (op.op === 'add' || op.op === 'move' || op.op === 'copy') {
        // add onto an existing object key replaces it
        const tokens = parsePointer(op.path);
        const parent = getAt(cur, tokens.slice(0, -1));
        if (isObject(parent) && has(cur, op.path)) {
          c.hadOld = true;
          c.old = getAt(cur, op.path);
        }
      }
      try {
        cur = applyOp(cur, op);
      } catch {
        ok = false;
      }
    }
    changes.push(c);
  }
  return { doc: cur, changes, ok };
}
