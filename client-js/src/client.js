// MirrorState browser client: the entry module.
//
//   import { connect } from "/_mirrorstate/client.js";
//   const mirror = connect();
//   const todo = mirror.state("todo", { initial: { items: [] } });
//   await todo.ready;                      // the file's value is known
//   todo.subscribe((value) => render(value));
//   render(todo.get());
//   todo.update((d) => { d.items.push({ id: 1, text: "milk", done: false }); });
//
// No dependencies, no build step: served raw by the server, or used from the
// mirrorstate-client npm package through a bundler.

import { Mirror, State, defaultUrl, readBoot, sameEndpoint, PROTOCOL } from './core.js';

export { Mirror, State, PROTOCOL, defaultUrl };
export { applyPatch, applyOp, diff, deepEqual, getPointer, parsePointer, formatPointer, PatchError } from './patch.js';
export { produce } from './draft.js';

/** Opens a connection to a MirrorState server and returns its Mirror.
 *
 * options.url          WebSocket URL; by default the boot data's url, else
 *                      the server this module was served from
 *                      (/_mirrorstate/client.js), else the page's origin.
 * options.token        sent as ?token= when the server requires one.
 * options.WebSocket    a WebSocket class (e.g. the `ws` package's in Node).
 * options.reconnect    { minDelay = 250, maxDelay = 5000 } in ms, or false.
 * options.reportErrors false to not report the page's errors to the server.
 * options.warnAfter    ms without a connection before the console warning
 *                      (default 3000; 0 for none).
 * options.role, page   for tools: "panel"/"cli", and the page shown in the
 *                      panel's client list. */
export function connect(options = {}) {
  const boot = readBoot();
  const url = options.url || defaultUrl(import.meta.url);
  let bootData = options.boot;
  if (bootData === undefined) {
    bootData = boot && (!options.url || (boot.url && sameEndpoint(boot.url, options.url))) ? boot : null;
  }
  return new Mirror({ ...options, url, boot: bootData || null });
}

let shared = null;

/** The page's shared default connection, opened on first use with
 * connect(options). Later calls return the same Mirror. */
export function getDefaultMirror(options) {
  if (!shared || shared.closed) shared = connect(options);
  return shared;
}

/** Makes `mirror` the shared default connection. */
export function setDefaultMirror(mirror) {
  shared = mirror;
}
