// React adapter for the MirrorState client, on useSyncExternalStore. The
// core never imports React; this module does, as a peer dependency, so it
// needs a bundler (Vite, esbuild, webpack) to resolve the bare "react".
//
//   const [todo, update, { status, error }] = useMirrorState('todo', { items: [] });
//   update((d) => { d.items.push({ id: 3, text: 'eggs', done: false }); });
//
// The first render shows the file's value: the hooks suspend (React
// Suspense) until the state's first snapshot, unless boot data (injected
// into the HTML by the Vite plugin) already holds it. Connections opened by
// a provider are reference-counted, so React StrictMode's double effects
// never close one that is in use.

import * as React from 'react';
import { connect, getDefaultMirror } from './client.js';

const { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useSyncExternalStore } = React;

const MirrorContext = createContext(null);

// Connections opened by providers, by their options: shared, counted, and
// closed a moment after the last provider using one unmounts (a StrictMode
// remount or a fast refresh picks it up again before that).
const CLOSE_AFTER = 1000;
const opened = new Map();

function keyOf(options) {
  return JSON.stringify([options.url ?? null, options.token ?? null, options.role ?? null]);
}

function acquire(options) {
  const key = keyOf(options);
  let entry = opened.get(key);
  if (!entry || entry.mirror.closed) {
    entry = { key, mirror: connect(options), refs: 0, timer: null };
    opened.set(key, entry);
  }
  return entry;
}

/** Provides a Mirror to the components below it. Pass an existing `mirror`,
 * or connect() options (`url`, `token`, ...) to share a connection opened
 * for them; it is closed when the last provider using it unmounts. Without
 * a provider, hooks use the shared default connection (getDefaultMirror()). */
export function MirrorProvider({ mirror, children, ...options }) {
  // Rendering twice (StrictMode) finds the same entry: one connection.
  const entry = mirror ? null : acquire(options);
  const value = mirror || entry.mirror;
  useEffect(() => {
    if (!entry) return undefined;
    entry.refs++;
    clearTimeout(entry.timer);
    return () => {
      entry.refs--;
      if (entry.refs > 0) return;
      entry.timer = setTimeout(() => {
        if (entry.refs > 0) return;
        if (opened.get(entry.key) === entry) opened.delete(entry.key);
        entry.mirror.close();
      }, CLOSE_AFTER);
    };
  }, [entry]);
  return createElement(MirrorContext.Provider, { value }, children);
}

/** The Mirror from the nearest MirrorProvider, else the shared default. */
export function useMirror() {
  return useContext(MirrorContext) || getDefaultMirror();
}

/** The handle of a named state (see State in the core). */
export function useMirrorHandle(name, initial) {
  const mirror = useMirror();
  return mirror.state(name, initial === undefined ? {} : { initial });
}

// Suspends until the state's value is known (first snapshot, boot data) or
// known to be unavailable (unknown state, closed mirror).
function suspendUntilReady(handle) {
  if (handle._readyDone) return;
  if (typeof React.use === 'function') React.use(handle.ready);
  else throw handle.ready;
}

/** `[value, update, meta]` for a named state; meta is `{ status, error,
 * ready, version, handle }`. `update` takes a transaction (`d => { d.count++ }`,
 * re-run on a newer state if needed) or a value (an absolute set). The first
 * render shows the file's value: the hook suspends until it is known, unless
 * `{ suspense: false }`, which renders `initial` meanwhile (`meta.ready`
 * false). A component re-renders when the value changes, and when a meta
 * field it read changes. */
export function useMirrorState(name, initial, options = {}) {
  const handle = useMirrorHandle(name, initial);
  if (options.suspense !== false) suspendUntilReady(handle);
  const used = useRef(null);
  if (used.current === null) used.current = { status: false, error: false, ready: false, version: false };
  const last = useRef(null);
  const getSnapshot = useCallback(() => {
    const u = used.current;
    const l = last.current;
    const value = handle.get();
    if (l && l.handle === handle && l.value === value &&
        (!u.status || l.status === handle.status) && (!u.error || l.error === handle.error) &&
        (!u.ready || l.ready === handle.loaded) && (!u.version || l.version === handle.version)) {
      return l;
    }
    last.current = { handle, value, status: handle.status, error: handle.error, ready: handle.loaded, version: handle.version };
    return last.current;
  }, [handle]);
  const subscribe = useCallback((fn) => handle.on('watch', fn), [handle]);
  const snap = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  const update = useCallback((next) => {
    if (typeof next === 'function') handle.update(next);
    else handle.set(next);
  }, [handle]);
  const meta = useMemo(() => {
    const u = used.current;
    return {
      get status() { u.status = true; return snap.status; },
      get error() { u.error = true; return snap.error; },
      get ready() { u.ready = true; return snap.ready; },
      get version() { u.version = true; return snap.version; },
      handle,
    };
  }, [snap, handle]);
  return [snap.value, update, meta];
}

/** A slice of a named state: `select(value)`, re-rendering only when the
 * slice changes by `isEqual` (default Object.is). Suspends like
 * useMirrorState until the value is known. */
export function useMirrorSelector(name, select, isEqual = Object.is, options = {}) {
  const handle = useMirrorHandle(name);
  if (options.suspense !== false) suspendUntilReady(handle);
  const cache = useRef(null);
  const getSnapshot = () => {
    const value = handle.get();
    const c = cache.current;
    if (c && c.handle === handle && c.value === value && c.select === select) return c.slice;
    const slice = select(value);
    if (c && c.handle === handle && isEqual(c.slice, slice)) {
      cache.current = { handle, value, select, slice: c.slice };
      return c.slice;
    }
    cache.current = { handle, value, select, slice };
    return slice;
  };
  return useSyncExternalStore(handle.subscribe, getSnapshot, getSnapshot);
}

/** The connection status of the provider's Mirror
 * ('connecting' | 'open' | 'closed'). */
export function useMirrorStatus() {
  const mirror = useMirror();
  const subscribe = useCallback((fn) => mirror.on('status', fn), [mirror]);
  return useSyncExternalStore(subscribe, () => mirror.status, () => mirror.status);
}

/** The current problem of a named state (file_invalid, a refused change, an
 * unreachable server, ...), or null. Does not suspend. */
export function useMirrorError(name) {
  const handle = useMirrorHandle(name);
  const subscribe = useCallback((fn) => handle.on('watch', fn), [handle]);
  return useSyncExternalStore(subscribe, () => handle.error, () => handle.error);
}
