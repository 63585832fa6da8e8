// React adapter for the MirrorState client: a thin layer over
// useSyncExternalStore. The core never imports React; this module does, as a
// peer dependency, so it needs a bundler (Vite, esbuild, webpack) to resolve
// the bare "react" import.
//
//   const [todo, update] = useMirrorState('todo', { items: [] });
//   update((d) => { d.items.push({ id: 3, text: 'eggs', done: false }); });

import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useSyncExternalStore } from 'react';
import { connect, getDefaultMirror } from './client.js';

const MirrorContext = createContext(null);

/** Provides a Mirror to the components below it. Pass an existing `mirror`,
 * or `url`/`token` (and other connect() options) to open one that closes
 * when the provider unmounts. Without a provider, hooks use the shared
 * default connection (getDefaultMirror()). */
export function MirrorProvider({ mirror, children, ...options }) {
  const key = mirror ? null : JSON.stringify({ url: options.url, token: options.token });
  const value = useMemo(() => mirror || connect(options), [mirror, key]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => (mirror ? undefined : () => value.close()), [mirror, value]);
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

/** [value, update, handle] for a named state. `update` takes a draft recipe
 * (`d => { d.count++ }`), a function returning the new value, or a value.
 * Components using the same name share one state and re-render once per
 * change. */
export function useMirrorState(name, initial) {
  const handle = useMirrorHandle(name, initial);
  const value = useSyncExternalStore(handle.subscribe, handle.get, handle.get);
  const update = useCallback((next) => {
    if (typeof next === 'function') handle.update(next);
    else handle.set(next);
  }, [handle]);
  return [value, update, handle];
}

/** The connection status ('connecting' | 'open' | 'closed'). */
export function useMirrorStatus() {
  const mirror = useMirror();
  const subscribe = useCallback((fn) => mirror.on('status', fn), [mirror]);
  return useSyncExternalStore(subscribe, () => mirror.status, () => mirror.status);
}

/** The current file/state error of a named state (file_invalid,
 * file_removed, ...), or null. */
export function useMirrorError(name) {
  const handle = useMirrorHandle(name);
  const subscribe = useCallback((fn) => handle.on('error', fn), [handle]);
  return useSyncExternalStore(subscribe, () => handle.error, () => handle.error);
}
