// A zustand middleware that mirrors a store's data to a MirrorState state,
// both ways:
//
//   import { create } from 'zustand';
//   import { mirror } from 'mirrorstate-client/zustand';
//
//   const useTodo = create(mirror('todo', (set) => ({
//     items: [],
//     add: (text) => set((s) => ({ items: [...s.items, { text, done: false }] })),
//   })));
//
// The store's data (its top-level keys that are not functions) is the
// state's value; its functions (actions) stay in the store only. A change to
// the store goes out as the JSON Patch between the data before and after; a
// change from the file or another tab comes in through setState. The first
// value is the file's: from the page's boot data when a dev server plugin
// wrote it, else from the first snapshot; the store's initial data creates
// the file when it does not exist.

import { getDefaultMirror } from '../src/client.js';
import { deepEqual, diff } from '../src/patch.js';

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The top-level keys of a store's state that are not functions. */
function dataOf(state) {
  const out = {};
  for (const k of Object.keys(state)) if (typeof state[k] !== 'function') out[k] = state[k];
  return out;
}

function functionsOf(state) {
  const out = {};
  for (const k of Object.keys(state)) if (typeof state[k] === 'function') out[k] = state[k];
  return out;
}

// A value as JSON holds it (Dates become strings, undefined is dropped).
const toJSON = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** The JSON form of a store's data, reusing the converted value of each key
 * whose value is the same object as last time (zustand replaces what
 * changes and keeps the rest). */
function jsonData(raw, prevRaw, prevJSON) {
  const out = {};
  for (const k of Object.keys(raw)) {
    const v = prevRaw && prevJSON && raw[k] === prevRaw[k] && k in prevJSON ? prevJSON[k] : toJSON(raw[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function bootState(name) {
  const s = globalThis.__MIRRORSTATE__?.states?.[name];
  return s && s.exists !== false && isPlainObject(s.state) ? s.state : undefined;
}

/** The middleware: mirror(name, initializer, { mirror }?). */
export function mirror(name, initializer, options = {}) {
  if (typeof name !== 'string' || name === '') throw new TypeError('mirrorstate/zustand: mirror(name, initializer): name must be a non-empty string');
  if (typeof initializer !== 'function') throw new TypeError('mirrorstate/zustand: mirror(name, initializer): initializer must be a function');
  return (set, get, api) => {
    const initial = initializer(set, get, api);
    // No page (server-side rendering): a plain store.
    if (!options.mirror && typeof document === 'undefined') return initial;

    const m = options.mirror || getDefaultMirror();
    const handle = m.state(name, { initial: jsonData(dataOf(initial)) });
    let warned = false;
    let applying = false;
    let lastRaw;   // the store's data last synced (its own objects)
    let last;      // its JSON form: what the store and the state agree on

    const fromState = (value) => {
      if (value === undefined || value === last) return;
      if (!isPlainObject(value)) {
        if (!warned) {
          warned = true;
          console.warn(`mirrorstate/zustand: the state "${name}" holds ${Array.isArray(value) ? 'an array' : typeof value}, not an object; the store keeps its data until the file holds an object.`);
        }
        return;
      }
      if (deepEqual(value, last)) return;
      last = value;
      applying = true;
      try {
        api.setState((s) => ({ ...functionsOf(s), ...value }), true);
      } finally {
        applying = false;
      }
      lastRaw = dataOf(api.getState());
    };

    api.subscribe((state) => {
      if (applying) return;
      const raw = dataOf(state);
      const next = jsonData(raw, lastRaw, last);
      const ops = diff(last, next);
      lastRaw = raw;
      last = next;
      if (ops.length === 0) return;
      try {
        handle.patch(ops);
      } catch {
        // The state moved under the store's feet: send the whole value.
        handle.set(next);
      }
    });
    handle.subscribe(fromState);

    let first = handle.loaded ? handle.get() : bootState(name);
    if (!isPlainObject(first)) first = undefined;
    const data = first ?? jsonData(dataOf(initial));
    last = data;
    lastRaw = first ? { ...first } : dataOf(initial);
    return first ? { ...functionsOf(initial), ...first } : initial;
  };
}

export default mirror;
