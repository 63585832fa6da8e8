import type { JSONValue, Operation } from './patch.js';

export type { JSONValue, Operation } from './patch.js';
export { PatchError, applyPatch, applyOp, diff, deepEqual, getPointer, parsePointer, formatPointer } from './patch.js';

/** Connection status. "connecting": opening a socket (first time or a
 * retry); "open": connected and subscribed; "closed": the connection is down
 * (a retry is scheduled unless close() was called). */
export type Status = 'connecting' | 'open' | 'closed';

/** An error message from the server, as sent (without `type`). */
export interface MirrorError {
  /** file_invalid, file_ok (notice), file_removed, write_failed, conflict,
   * invalid_patch, unknown_state, too_large, forbidden, bad_message, ... */
  code: string;
  message: string;
  /** The state it is about, when there is one. */
  name?: string;
  /** The ref of the change that caused it. */
  ref?: number;
  /** file_invalid: the file's path, the 1-based position of the first
   * character where parsing failed, and that line's text. */
  file?: string;
  line?: number;
  column?: number;
  text?: string;
}

/** A change made by someone else, as received. */
export interface PatchEvent {
  name: string;
  version: number;
  ops: Operation[];
  /** "file" (the file was edited), "client:<id>", "panel" or "api". */
  origin: string;
}

export interface ConnectOptions {
  /** WebSocket URL. Default: the server this module was loaded from
   * (http://H:P/_mirrorstate/client.js -> ws://H:P/_mirrorstate/ws); when the
   * module was bundled, port 7420 of the page's host. */
  url?: string;
  /** Sent as `?token=` when the server was started with --token. */
  token?: string;
  /** A WebSocket class, for Node (the `ws` package) or tests. Default:
   * globalThis.WebSocket. */
  WebSocket?: new (url: string, protocol?: string | string[]) => WebSocket;
  /** Reconnect backoff: exponential from minDelay to maxDelay (ms), half of
   * it random; false to never reconnect. Default { minDelay: 250,
   * maxDelay: 5000 }. */
  reconnect?: false | { minDelay?: number; maxDelay?: number };
}

export interface StateOptions<T> {
  /** Used when the state's file does not exist: the server creates it with
   * this value. Also what get() returns until the first snapshot. */
  initial?: T;
}

type Unsubscribe = () => void;

/** A mutable draft of a JSON value: assign, delete, push, splice... Every
 * change becomes JSON Patch ops. */
export type Draft<T> = T extends object ? { -readonly [K in keyof T]: Draft<T[K]> } : T;

/** One named state. Values are immutable snapshots: never mutate what get()
 * returns; change it with update(), set() or patch(). */
export interface State<T = JSONValue> {
  readonly name: string;
  /** The current value: the server's state plus this client's changes not
   * yet confirmed. `initial` (or undefined) before the first snapshot and
   * while the state does not exist. */
  get(): T;
  /** Calls fn with each new value; equal values do not notify. Returns the
   * unsubscribe function. */
  subscribe(fn: (value: T) => void): Unsubscribe;
  /** Changes the value through a mutable draft: `s.update(d => { d.count++ })`,
   * or returns the new value: `s.update(n => n + 1)`. Applied at once;
   * all changes of one synchronous burst go out as one message. `push` is
   * sent as an append ("-"), so concurrent appends all survive. */
  update(recipe: (draft: Draft<T>) => T | void | undefined): void;
  /** Replaces the whole value; sent as the minimal patch from the current
   * one (or as a `set` when the state does not exist yet). */
  set(value: T): void;
  /** Applies raw JSON Patch ops, e.g. a `test` then a `replace` for a
   * strict compare-and-set: a batch holding a `test` is dropped whole if it
   * fails on the server. Throws PatchError if the ops do not apply locally. */
  patch(ops: Operation[]): void;
  /** Resolves when every change made so far is confirmed (or rejected). */
  settled(): Promise<void>;
  /** Resolves (with this handle) at the first snapshot. */
  readonly ready: Promise<State<T>>;
  /** The version the server last confirmed; 0 before the first snapshot or
   * while the state does not exist. Starts again at 1 after a server restart. */
  readonly version: number;
  /** Whether the state exists on the server. */
  readonly exists: boolean;
  /** Whether a snapshot has arrived at least once. */
  readonly loaded: boolean;
  /** Number of local change batches the server has not confirmed. */
  readonly pending: number;
  /** The current problem with this state, or null: file_invalid (with
   * line/column), file_removed, write_failed; or the last change the server
   * refused for good (invalid_patch, too_large, forbidden, unknown_state).
   * Cleared by file_ok. */
  readonly error: MirrorError | null;

  /** Events. "change": the value changed (like subscribe). "patch": a change
   * by someone else arrived. "error": `error` changed (null when cleared).
   * "conflict": a change was refused because it no longer applied; the
   * client took the fresh snapshot and re-sent what still applies.
   * "snapshot": a whole state arrived. "ack": a change was confirmed.
   * Returns the function that removes the listener. */
  on(event: 'change', fn: (value: T) => void): Unsubscribe;
  on(event: 'patch', fn: (e: PatchEvent) => void): Unsubscribe;
  on(event: 'error', fn: (e: MirrorError | null) => void): Unsubscribe;
  on(event: 'conflict', fn: (e: MirrorError) => void): Unsubscribe;
  on(event: 'snapshot', fn: (e: { version: number; state: T; exists: boolean }) => void): Unsubscribe;
  on(event: 'ack', fn: (e: { ref: number; version: number }) => void): Unsubscribe;
  off(event: string, fn: (...args: any[]) => void): void;
}

export interface Hello {
  protocol: number;
  server: string;
  session: string;
  client: string;
  states: string[];
  /** True when the session differs from the previous connection's: the
   * server restarted. */
  restarted: boolean;
}

/** A connection to one MirrorState server. Reconnects by itself; after a
 * reconnect or a server restart it resubscribes every state and re-sends
 * every change not yet confirmed, on top of the fresh snapshot. */
export interface Mirror {
  readonly url: string;
  readonly status: Status;
  /** The server run's id (from hello); null before the first connection. */
  readonly session: string | null;
  /** This connection's id; its changes reach others with origin
   * `client:<clientId>`. */
  readonly clientId: string | null;
  /** The handle of a named state; the same handle for the same name. */
  state<T = JSONValue>(name: string, options?: StateOptions<T>): State<T>;
  /** Resolves when every change on every state is confirmed. */
  settled(): Promise<void>;
  /** Closes the connection for good. */
  close(): void;
  /** "status": status changed. "error": any error message from the server.
   * "patch": a change by someone else to any state. "hello": connected. */
  on(event: 'status', fn: (status: Status) => void): Unsubscribe;
  on(event: 'error', fn: (e: MirrorError) => void): Unsubscribe;
  on(event: 'patch', fn: (e: PatchEvent) => void): Unsubscribe;
  on(event: 'hello', fn: (e: Hello) => void): Unsubscribe;
  off(event: string, fn: (...args: any[]) => void): void;
}

/** Opens a connection; see ConnectOptions. */
export function connect(options?: ConnectOptions): Mirror;

/** The page's shared connection, opened on first use. */
export function getDefaultMirror(options?: ConnectOptions): Mirror;

/** Makes `mirror` the shared connection. */
export function setDefaultMirror(mirror: Mirror): void;

/** The default WebSocket URL for a module served from `moduleUrl`. */
export function defaultUrl(moduleUrl: string, location?: { hostname: string; protocol: string }): string;

/** Runs recipe on a draft of base; returns the new value and the ops. */
export function produce<T>(base: T, recipe: (draft: Draft<T>) => T | void | undefined): { value: T; ops: Operation[] };

/** The protocol's WebSocket subprotocol, "mirrorstate.v1". */
export const PROTOCOL: 'mirrorstate.v1';
