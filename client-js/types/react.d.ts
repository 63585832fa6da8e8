import type { ReactNode, ReactElement } from 'react';
import type { ConnectOptions, Mirror, MirrorError, State, Status, Draft } from './client.js';

/** Updates a state: a draft recipe (`d => { d.count++ }`), a function
 * returning the new value, or the new value itself. */
export type Update<T> = (next: T | ((draft: Draft<T>) => T | void | undefined)) => void;

/** Provides a Mirror to the tree below. Pass an existing `mirror`, or
 * connect() options to open one that is closed on unmount. Without any
 * provider, hooks use the shared default connection. */
export function MirrorProvider(props: ConnectOptions & { mirror?: Mirror; children?: ReactNode }): ReactElement;

/** The nearest provider's Mirror, else the shared default connection. */
export function useMirror(): Mirror;

/** A named state's handle. */
export function useMirrorHandle<T = any>(name: string, initial?: T): State<T>;

/** `[value, update, handle]` for a named state, on useSyncExternalStore:
 * one render per change; components using the same name share the state.
 * `initial` creates the file if it does not exist and is the value until
 * the first snapshot. */
export function useMirrorState<T = any>(name: string, initial?: T): [T, Update<T>, State<T>];

/** The connection status. */
export function useMirrorStatus(): Status;

/** A named state's current error (file_invalid, file_removed, ...) or null. */
export function useMirrorError(name: string): MirrorError | null;
