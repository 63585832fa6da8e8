import type { JSONValue, Operation } from './patch.js';

export type { JSONValue, Operation } from './patch.js';
export { PatchError, applyPatch, applyOp, diff, deepEqual, getPointer, parsePointer, formatPointer } from './patch.js';

/** Connection status. "connecting": opening a socket (first time or a
 * retry); "open": connected (hello received); "closed": the connection is
 * down (a retry is scheduled unless close() was called: see `closed`). */
export type Status = 'connecting' | 'open' | 'closed';

/** A state's status. "connecting": its value on this connection is not
 * there yet; "live": subscribed, changes flow; "offline": the connection was
 * lost (or could not be made for `warnAfter` ms), retrying; "error": it
 * cannot work as things are: an unknown state, a refused connection (token,
 * Host, Origin) or a closed mirror. `error` says which. */
export type StateStatus = 'connecting' | 'live' | 'offline' | 'error';

/** An error: a message from the server (without `type`), or one the client
 * raises about the connection (`unreachable`, `forbidden`, `closed`). */
export interface MirrorError {
  /** From the server: file_invalid, file_ok (notice), file_removed,
   * write_failed, conflict, invalid_patch, unknown_state, too_large,
   * forbidden, bad_message, ... From the client: unreachable (no connection
   * for `warnAfter` ms), forbidden (the server refused the connection),
   * closed (the mirror was closed). */
  code: string;
  message: string;
  /** The state it is about, when there is one. */
  name?: string;
  /** The ref of the change that caused it. */
  ref?: number | string;
  /** file_invalid: the file's path, the 1-based position of the first
   * character where parsing failed, and that line's text. */
  file?: string;
  line?: number;
  column?: number;
  text?: string;
  /** A connection problem that will not go away by retrying (forbidden,
   * closed). */
  fatal?: boolean;
}

/** A change made by someone else, as received. */
export interface PatchEvent<T = JSONValue> {
  name: string;
  version: number;
  ops: Operation[];
  /** "file" (the file was edited), "client:<id>", "panel" or "api". */
  origin: string;
  /** The server's state before and after this change. */
  before: T | undefined;
  state: T;
}

/** This client's change, confirmed by the server. */
export interface AckEvent<T = JSONValue> {
  ref: number;
  version: number;
  /** The ops the server applied (none when the change changed nothing). */
  ops: Operation[];
  /** The server's state before and after this change. */
  before: T | undefined;
  state: T | undefined;
}

/** Boot data: the states as they were when the page's HTML was served,
 * injected as `globalThis.__MIRRORSTATE__` (the Vite plugin does it), so a
 * state handle starts with the file's value before any message arrives. */
export interface BootData {
  /** The server's WebSocket URL (ws://, http:// or a path); connect() uses
   * it when given no `url`. */
  url?: string;
  states: { [name: string]: { version: number; exists: boolean; state?: JSONValue } };
}

export interface ConnectOptions {
  /** WebSocket URL. Default: the boot data's url; else, for this module
   * served by a MirrorState server as /_mirrorstate/client.js, that server's
   * /_mirrorstate/ws; else the page's own origin + "/_mirrorstate/ws" (a dev
   * server proxying /_mirrorstate, or `mirrorstate serve --static`). */
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
  /** Report the page's uncaught errors, unhandled rejections and
   * console.error calls to the server (at most 10 per 10 s), so an agent
   * learns the page broke. Default true in a browser. */
  reportErrors?: boolean;
  /** Milliseconds without a connection before the client warns in the
   * console and states turn "offline" with error `unreachable`. Default
   * 3000; 0 never warns. */
  warnAfter?: number;
  /** Boot data to start from. Default: `globalThis.__MIRRORSTATE__` when
   * `url` is not given or names the same server; null for none. */
  boot?: BootData | null;
  /** For tools: "app" (default), "panel" (changes carry origin "panel") or
   * "cli" (origin "api"). */
  role?: 'app' | 'panel' | 'cli';
  /** The page shown in the panel's client list. Default: this page's URL
   * without query and fragment. */
  page?: string;
  /** The fetch() used to ask the server why a connection failed (a refused
   * token answers 403 with the reason). Default globalThis.fetch; null for
   * none. */
  fetch?: ((url: string, init?: object) => Promise<{ status: number; json(): Promise<any> }>) | null;
}

export interface StateOptions<T> {
  /** Only used when the state's file does not exist: the server creates
   * it with this value. Also what get() returns until the value is known. */
  initial?: T;
}

type Unsubscribe = () => void;

/** A mutable draft of a JSON value: assign, delete, push, splice... Every
 * change becomes JSON Patch ops. */
export type Draft<T> = T extends object ? { -readonly [K in keyof T]: Draft<T[K]> } : T;

/** A transaction: changes a draft, or returns the new value. */
export type Recipe<T> = (draft: Draft<T>) => T | void | undefined;

/** One named state. Values are immutable snapshots: never mutate what get()
 * returns; change it with update(), set() or patch(). */
export interface State<T = JSONValue> {
  readonly name: string;
  /** The current value: the server's state plus this client's changes not
   * yet confirmed. Before the value is known (`loaded`): `initial`, or
   * undefined. */
  get(): T;
  /** Calls fn with each new value; equal values do not notify. Returns the
   * unsubscribe function. */
  subscribe(fn: (value: T) => void): Unsubscribe;
  /** A transaction: `s.update(d => { d.count++ })`, or
   * `s.update(n => n + 1)`. Applied at once when the value is known; before
   * that it waits and runs on the file's value. If the server moves on
   * before confirming it (another tab, the file, the CLI), it is run again on
   * the newer state: "+1" stays "+1". It may run more than once, so keep it
   * free of other side effects. All changes of one synchronous burst go out
   * as one message; `push` is sent as an append ("-"). */
  update(recipe: Recipe<T>): void;
  /** Replaces the whole value (absolute: never re-run). Sent as the minimal
   * patch from the current value, so concurrent changes to other keys are
   * kept; before the value is known, the value given is what is sent. */
  set(value: T): void;
  /** Applies raw JSON Patch ops (absolute: never re-run), e.g. a `test` then
   * a `replace` for a compare-and-set, dropped whole if the test fails on
   * the server. Throws PatchError if they do not apply to the current
   * value. */
  patch(ops: Operation[]): void;
  /** Resolves when every change made so far is confirmed, or refused and
   * dropped. */
  settled(): Promise<void>;
  /** Resolves (with this handle) once the value is known: the first
   * snapshot or boot data; also when the state turns out unusable (unknown
   * state, closed mirror). `await state.ready` before the first render shows
   * the file's value first. */
  readonly ready: Promise<State<T>>;
  /** The version the server last confirmed; 0 while unknown or while the
   * state does not exist. Starts again at 1 after a server restart. */
  readonly version: number;
  /** Whether the state exists on the server. */
  readonly exists: boolean;
  /** Whether the server's value is known (a snapshot or boot data). */
  readonly loaded: boolean;
  /** Number of changes the server has not confirmed yet. */
  readonly pending: number;
  /** See StateStatus. */
  readonly status: StateStatus;
  /** The current problem, or null: file_invalid (with line/column),
   * file_removed, write_failed (cleared by file_ok); a change the server
   * refused for good (bad_message, invalid_patch, too_large, forbidden: the
   * change was dropped and the value is the server's again); unknown_state;
   * or the connection's problem (unreachable, forbidden, closed). */
  readonly error: MirrorError | null;

  /** Events. "change": the value changed (like subscribe). "patch": a change
   * by someone else arrived. "ack": this client's change was confirmed.
   * "snapshot": a whole state arrived. "error": `error` changed (null when
   * cleared). "status": `status` changed. "conflict": a change was refused
   * as stale or no longer applying: a transaction is re-run on the fresh
   * state and sent again; of an absolute change, what still applies is
   * sent again. Returns the function that removes the listener. */
  on(event: 'change', fn: (value: T) => void): Unsubscribe;
  on(event: 'patch', fn: (e: PatchEvent<T>) => void): Unsubscribe;
  on(event: 'ack', fn: (e: AckEvent<T>) => void): Unsubscribe;
  on(event: 'snapshot', fn: (e: { version: number; state: T | undefined; exists: boolean }) => void): Unsubscribe;
  on(event: 'error', fn: (e: MirrorError | null) => void): Unsubscribe;
  on(event: 'status', fn: (status: StateStatus) => void): Unsubscribe;
  on(event: 'conflict', fn: (e: MirrorError) => void): Unsubscribe;
  off(event: string, fn: (...args: any[]) => void): void;
}

export interface Hello {
  type: 'hello';
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
  /** Whether close() was called. */
  readonly closed: boolean;
  /** The connection's problem (unreachable, forbidden, closed), or null. */
  readonly error: MirrorError | null;
  /** The server run's id (from hello); null before the first connection. */
  readonly session: string | null;
  /** This connection's id; its changes reach others with origin
   * `client:<clientId>`. */
  readonly clientId: string | null;
  /** The names the server mirrors (from the last hello). */
  readonly names: string[];
  /** When the next connection attempt is due (ms since the epoch), or null. */
  readonly retryAt: number | null;
  /** How the last connection closed, or null. */
  readonly closeInfo: { code: number | undefined; reason: string } | null;
  /** The handle of a named state; the same handle for the same name. */
  state<T = JSONValue>(name: string, options?: StateOptions<T>): State<T>;
  /** Resolves when every change on every state is confirmed. */
  settled(): Promise<void>;
  /** Closes the connection for good; changes not sent yet are dropped. */
  close(): void;
  /** Tries to connect now rather than at the end of the backoff. */
  reconnectNow(): void;
  /** For tools: sends a raw protocol message; false when not connected. */
  send(msg: object): boolean;
  /** For tools: sends a message with a `ref` and resolves with the server's
   * answer (the message carrying that ref), or with an `offline` error
   * message when not connected or the connection drops first. */
  request(msg: object): Promise<{ type: string; [key: string]: any }>;
  /** "status": status changed. "error": any error message from the server.
   * "patch": a change by someone else to any state. "hello": connected.
   * "retry": a reconnect is scheduled. "message": every message received,
   * after the client handled it. */
  on(event: 'status', fn: (status: Status) => void): Unsubscribe;
  on(event: 'error', fn: (e: MirrorError) => void): Unsubscribe;
  on(event: 'patch', fn: (e: PatchEvent) => void): Unsubscribe;
  on(event: 'hello', fn: (e: Hello) => void): Unsubscribe;
  on(event: 'retry', fn: (e: { delay: number; attempt: number }) => void): Unsubscribe;
  on(event: 'message', fn: (msg: { type: string; [key: string]: any }) => void): Unsubscribe;
  off(event: string, fn: (...args: any[]) => void): void;
}

/** Opens a connection; see ConnectOptions. */
export function connect(options?: ConnectOptions): Mirror;

/** The page's shared connection, opened on first use with
 * connect(options); later calls return the same one until it is closed. */
export function getDefaultMirror(options?: ConnectOptions): Mirror;

/** Makes `mirror` the shared connection. */
export function setDefaultMirror(mirror: Mirror): void;

/** The URL connect() uses without `url` (see ConnectOptions.url). */
export function defaultUrl(
  moduleUrl: string,
  location?: { origin: string; href?: string } | null,
  boot?: BootData | null,
): string;

/** Runs recipe on a draft of base; returns the new value and the ops. */
export function produce<T>(base: T, recipe: Recipe<T>): { value: T; ops: Operation[] };

/** The protocol's WebSocket subprotocol, "mirrorstate.v1". */
export const PROTOCOL: 'mirrorstate.v1';

/** The classes behind connect() and mirror.state(), for instanceof checks. */
export const Mirror: { prototype: Mirror };
export const State: { prototype: State<any> };
