import type { ReactNode, ReactElement } from 'react';
import type { ConnectOptions, Mirror, MirrorError, Recipe, State, StateStatus, Status } from './client.js';

/** Updates a state: a transaction (`d => { d.count++ }`, or a function
 * returning the new value; re-run on a newer state if needed), or the new
 * value itself (an absolute set). */
export type Update<T> = (next: T | Recipe<T>) => void;

/** The third element of useMirrorState. Reading a field subscribes the
 * component to it: a component that never reads `status` does not re-render
 * when it changes. */
export interface MirrorMeta<T> {
  status: StateStatus;
  error: MirrorError | null;
  /** Whether the value is the file's (false only with `suspense: false`,
   * while `initial` is shown). */
  ready: boolean;
  /** The version the server last confirmed. */
  version: number;
  /** The state's handle. */
  handle: State<T>;
}

export interface HookOptions {
  /** Suspend (React Suspense) until the state's value is known, so the
   * first render shows the file's value. Default true; boot data makes the
   * value known at once. With false, `initial` is rendered meanwhile. */
  suspense?: boolean;
}

/** Provides a Mirror to the tree below. Pass an existing `mirror`, or
 * connect() options to share a connection opened for them; connections are
 * reference-counted and closed a moment after the last provider using one
 * unmounts, so StrictMode's double effects never close one in use. Without
 * any provider, hooks use the shared default connection (connect() with no
 * options). */
export function MirrorProvider(props: ConnectOptions & { mirror?: Mirror; children?: ReactNode }): ReactElement;

/** The nearest provider's Mirror, else the shared default connection. */
export function useMirror(): Mirror;

/** A named state's handle (does not suspend). */
export function useMirrorHandle<T = any>(name: string, initial?: T): State<T>;

/** `[value, update, meta]` for a named state, on useSyncExternalStore: one
 * render per change; components using the same name share the state.
 * `initial` only creates the file when it does not exist. Suspends until the
 * value is known unless `{ suspense: false }`. */
export function useMirrorState<T = any>(name: string, initial?: T, options?: HookOptions): [T, Update<T>, MirrorMeta<T>];

/** `select(value)` of a named state; re-renders only when the slice changes
 * by `isEqual` (default Object.is). Suspends like useMirrorState. */
export function useMirrorSelector<T = any, S = unknown>(
  name: string,
  select: (value: T) => S,
  isEqual?: (a: S, b: S) => boolean,
  options?: HookOptions,
): S;

/** The connection status of the provider's Mirror. */
export function useMirrorStatus(): Status;

/** A named state's current problem (see State.error), or null. Does not
 * suspend. */
export function useMirrorError(name: string): MirrorError | null;
