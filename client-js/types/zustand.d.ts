import type { StateCreator, StoreMutatorIdentifier } from 'zustand/vanilla';
import type { Mirror } from './client.js';

export interface MirrorOptions {
  /** The connection to use. Default: the page's shared connection
   * (`getDefaultMirror()`), which needs no URL under the Vite plugin. */
  mirror?: Mirror;
}

/** Mirrors a zustand store's data to the MirrorState state `name`, both
 * ways: `create(mirror('todo', (set) => ({ items: [], add: … })))`.
 *
 * The data is the store's top-level keys that are not functions; it must be
 * JSON (Dates become strings, `undefined` keys are dropped). A change to the
 * store is sent as the JSON Patch from the data before to the data after; a
 * change to the file (or from another tab) arrives through `setState`. The
 * store starts with the file's value when the page has it (the Vite plugin
 * writes it into the page), else with the initializer's data until the
 * first snapshot; that data creates the file when it does not exist.
 * Without a `document` (server-side rendering) and no `mirror` option, the
 * store is not mirrored. */
export function mirror<
  T extends object,
  Mps extends [StoreMutatorIdentifier, unknown][] = [],
  Mcs extends [StoreMutatorIdentifier, unknown][] = [],
>(name: string, initializer: StateCreator<T, Mps, Mcs>, options?: MirrorOptions): StateCreator<T, Mps, Mcs>;

export default mirror;
