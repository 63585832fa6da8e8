// MirrorState browser client: the entry module.
//
//   import { connect } from "http://localhost:7420/_mirrorstate/client.js";
//   const mirror = connect();
//   const todo = mirror.state("todo", { initial: { items: [] } });
//   todo.subscribe((value) => render(value));
//   todo.update((d) => { d.items.push({ id: 1, text: "milk", done: false }); });
//
// No dependencies, no build step: served raw by the server, or used from the
// mirrorstate-client npm package through a bundler.

import { Mirror, State, defaultUrl, PROTOCOL } from './core.js';

export { Mirror, State, PROTOCOL };
export { applyPatch, applyOp, diff, deepEqual, getPointer, parsePointer, formatPointer, PatchError } from './patch.js';
export { produce } from './draft.js';

/** Opens a connection to a MirrorState server and returns its Mirror.
 *
 * options.url        WebSocket URL; defaults to the server this module was
 *                    loaded from (ws://HOST:PORT/_mirrorstate/ws), or port
 *                    7420 of the page's host when the module was bundled.
 * options.token      sent as ?token= when the server requires one.
 * options.WebSocket  a WebSocket class (e.g. the `ws` package's in Node).
 * options.reconnect  { minDelay = 250, maxDelay = 5000 } in ms, or false. */
export function connect(options = {}) {
  const url = options.url || defaultUrl(import.meta.url);
  return new Mirror({ ...options, url });
}

let shared = null;

/** The page's shared default connection, opened on first use with
 * connect(options). Later calls return the same Mirror. */
export function getDefaultMirror(options) {
  if (!shared || shared._closed) shared = connect(options);
  return shared;
}

/** Makes `mirror` the shared default connection. */
export function setDefaultMirror(mirror) {
  shared = mirror;
}

export { defaultUrl };
