// Mutable drafts over immutable JSON values, recorded as JSON Patch ops.
//
// produce(base, recipe) hands recipe a Proxy that reads like the value and
// can be changed with ordinary assignments, `delete` and array methods. Each
// change becomes one or a few RFC 6902 ops, applied at once to a working copy
// (so later reads see earlier writes) and collected in order. The base value
// is never mutated. Appends (`push`, or assigning at `length`) use the "-"
// index so they survive concurrent inserts by others.

import { applyOp, deepEqual, diff, formatPointer, isObject } from './patch.js';

const DRAFT = Symbol('mirrorstate.draft');
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/** Turns any value into a plain JSON value (drafts are read through; Dates
 * become strings; functions and undefined properties are dropped). */
export function toJSONValue(v) {
  if (v === undefined) return undefined;
  if (v !== null && typeof v === 'object' && v[DRAFT]) return v[DRAFT].current();
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    if (typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (typeof v === 'bigint') throw new TypeError('mirrorstate: BigInt is not JSON; use a string');
    return v;
  }
  return JSON.parse(JSON.stringify(v));
}

/** Runs recipe on a draft of base. Returns { value, ops }: the new value and
 * the ops that turn base into it. If recipe returns something other than
 * undefined (or the draft itself), that becomes the new value. A base that is
 * not an object or array is passed as is; recipe must then return the new
 * value. */
export function produce(base, recipe) {
  const ctx = { root: base, ops: [], proxies: new Map() };
  const emit = (op) => {
    ctx.root = applyOp(ctx.root, op, ctx.ops.length);
    ctx.ops.push(op);
  };
  ctx.emit = emit;
  const draft = typeof base === 'object' && base !== null ? proxyFor(ctx, []) : base;
  const result = recipe(draft);
  if (result !== undefined && result !== draft) {
    if (typeof result === 'object' && result !== null && result[DRAFT] && result[DRAFT].ctx === ctx) {
      // Returning a sub-draft: the value it currently holds becomes the root.
      const v = result[DRAFT].current();
      for (const op of diff(ctx.root, v)) emit(op);
    } else {
      const v = toJSONValue(result);
      for (const op of diff(ctx.root, v)) emit(op);
    }
  }
  return { value: ctx.root, ops: ctx.ops };
}

function resolve(ctx, path) {
  let cur = ctx.root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

const ARRAY_MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin']);

function proxyFor(ctx, path) {
  const key = formatPointer(path);
  const value = resolve(ctx, path);
  const isArr = Array.isArray(value);
  const cached = ctx.proxies.get(key);
  if (cached && cached.isArr === isArr) return cached.proxy;
  const ptr = key;
  const info = { ctx, current: () => resolve(ctx, path) };

  const child = (k) => {
    const v = resolve(ctx, path)[k];
    return v !== null && typeof v === 'object' ? proxyFor(ctx, [...path, k]) : v;
  };

  const setKey = (cur, k, raw) => {
    const v = toJSONValue(raw);
    if (Array.isArray(cur)) {
      if (k === 'length') {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > cur.length) {
          throw new RangeError('mirrorstate: arrays in a draft can only be shortened through length');
        }
        for (let i = cur.length - 1; i >= n; i--) ctx.emit({ op: 'remove', path: `${ptr}/${i}` });
        return true;
      }
      if (!/^(0|[1-9][0-9]*)$/.test(k)) throw new TypeError(`mirrorstate: cannot set "${k}" on an array`);
      const i = Number(k);
      if (v === undefined) throw new TypeError('mirrorstate: undefined is not a JSON array element');
      if (i < cur.length) {
        if (!deepEqual(cur[i], v)) ctx.emit({ op: 'replace', path: `${ptr}/${i}`, value: v });
      } else if (i === cur.length) {
        ctx.emit({ op: 'add', path: `${ptr}/-`, value: v });
      } else {
        throw new RangeError('mirrorstate: arrays in a draft cannot have holes');
      }
      return true;
    }
    const p = ptr + formatPointer([k]);
    if (v === undefined) {
      if (hasOwn(cur, k)) ctx.emit({ op: 'remove', path: p });
    } else if (hasOwn(cur, k)) {
      if (!deepEqual(cur[k], v)) ctx.emit({ op: 'replace', path: p, value: v });
    } else {
      ctx.emit({ op: 'add', path: p, value: v });
    }
    return true;
  };

  const mutator = (name) => (...args) => {
    const cur = resolve(ctx, path);
    if (name === 'push') {
      for (const a of args) {
        const v = toJSONValue(a);
        ctx.emit({ op: 'add', path: `${ptr}/-`, value: v === undefined ? null : v });
      }
      return resolve(ctx, path).length;
    }
    if (name === 'pop') {
      if (cur.length === 0) return undefined;
      const last = cur[cur.length - 1];
      ctx.emit({ op: 'remove', path: `${ptr}/${cur.length - 1}` });
      return last;
    }
    // Everything else: run the method on a plain copy and record the diff,
    // which is one op for a single insert or delete anywhere.
    const copy = cur.slice();
    const plainArgs = args.map((a) => (typeof a === 'function' ? a : toJSONValue(a)));
    const ret = Array.prototype[name].apply(copy, plainArgs);
    for (const op of diff(cur, copy, ptr)) ctx.emit(op);
    if (ret === copy) return proxyFor(ctx, path);
    return ret;
  };

  const handler = {
    get(_t, k) {
      if (k === DRAFT) return info;
      const cur = resolve(ctx, path);
      if (cur === null || typeof cur !== 'object') return undefined;
      if (typeof k === 'symbol') {
        const v = Reflect.get(cur, k);
        return typeof v === 'function' ? v : v;
      }
      if (Array.isArray(cur) && ARRAY_MUTATORS.has(k)) return mutator(k);
      if (hasOwn(cur, k)) return child(k);
      return Reflect.get(cur, k);
    },
    set(_t, k, v) {
      if (typeof k === 'symbol') throw new TypeError('mirrorstate: symbol keys are not JSON');
      return setKey(resolve(ctx, path), k, v);
    },
    deleteProperty(_t, k) {
      const cur = resolve(ctx, path);
      if (Array.isArray(cur)) throw new TypeError('mirrorstate: use splice() to remove array elements');
      if (hasOwn(cur, k)) ctx.emit({ op: 'remove', path: ptr + formatPointer([k]) });
      return true;
    },
    has(_t, k) {
      if (k === DRAFT) return true;
      return k in resolve(ctx, path);
    },
    ownKeys() {
      return Reflect.ownKeys(resolve(ctx, path));
    },
    getOwnPropertyDescriptor(_t, k) {
      const cur = resolve(ctx, path);
      const d = Reflect.getOwnPropertyDescriptor(cur, k);
      if (!d) return undefined;
      if (k === 'length' && Array.isArray(cur)) return { ...d, value: cur.length };
      return { value: isObject(d.value) || Array.isArray(d.value) ? child(k) : d.value,
               writable: true, enumerable: d.enumerable, configurable: true };
    },
    defineProperty(_t, k, d) {
      if (!('value' in d)) throw new TypeError('mirrorstate: accessors are not JSON');
      return setKey(resolve(ctx, path), k, d.value);
    },
    getPrototypeOf() {
      return Object.getPrototypeOf(resolve(ctx, path));
    },
    setPrototypeOf() {
      throw new TypeError('mirrorstate: cannot change the prototype of a draft');
    },
  };
  const proxy = new Proxy(isArr ? [] : {}, handler);
  ctx.proxies.set(key, { proxy, isArr });
  return proxy;
}

/** True if v is a draft made by produce(). */
export function isDraft(v) {
  return v !== null && typeof v === 'object' && Boolean(v[DRAFT]);
}
