// Changes described for display, on the client's JSON Patch engine: each op
// with the value it replaced, and a state walked back through the inverse
// ops of the server's history.

import { applyOp, applyPatch, getPointer, parsePointer, formatPointer } from 'mirrorstate-client/patch';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The pointer of the container holding `pointer` ("" for the root). */
export function parentPointer(pointer) {
  const i = pointer.lastIndexOf('/');
  return i <= 0 ? '' : pointer.slice(0, i);
}

// Whether the pointer names a value in doc (an array index in range or an
// own key).
function has(doc, pointer) {
  const tokens = parsePointer(pointer);
  if (!tokens.length) return doc !== undefined;
  const parent = getPointer(doc, formatPointer(tokens.slice(0, -1)));
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return /^(0|[1-9][0-9]*)$/.test(last) && Number(last) < parent.length;
  return isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last);
}

/** Describes ops against the document they apply to, one entry per op, with
 * the old value read before that op: {op, path, from?, old?, hadOld?,
 * value?}. Returns {doc, changes, ok}; if an op fails, the rest are
 * described without old values and doc is the last good document. */
export function describe(doc, ops) {
  const changes = [];
  let cur = doc;
  let ok = true;
  for (const op of ops) {
    const c = { op: op.op, path: op.path };
    if ('from' in op) c.from = op.from;
    if ('value' in op) c.value = op.value;
    if (ok) {
      try {
        if (op.op === 'move' || op.op === 'copy') c.value = getPointer(cur, op.from);
        if (op.op === 'remove' || op.op === 'replace' || op.op === 'test') {
          c.hadOld = has(cur, op.path);
          c.old = getPointer(cur, op.path);
        } else if (op.op === 'add' || op.op === 'move' || op.op === 'copy') {
          // add onto an existing object key replaces it
          const parent = getPointer(cur, parentPointer(op.path));
          if (isObject(parent) && has(cur, op.path)) {
            c.hadOld = true;
            c.old = getPointer(cur, op.path);
          }
        }
        cur = applyOp(cur, op);
      } catch {
        ok = false;
      }
    }
    changes.push(c);
  }
  return { doc: cur, changes, ok };
}

/** The state at `target`, walking back from `value` at `version` with the
 * inverse ops of a history answer. Returns undefined if the ring does not
 * reach that far; throws PatchError if an inverse does not apply. */
export function rewind(value, version, entries, target) {
  let cur = value;
  let v = version;
  const byVersion = new Map(entries.map((e) => [e.version, e]));
  while (v > target) {
    const e = byVersion.get(v);
    if (!e) return undefined;
    cur = applyPatch(cur, e.inverse || []);
    v--;
  }
  return cur;
}
