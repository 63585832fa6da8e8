import type { Plugin } from 'vite';

/** Options of the MirrorState Vite plugin. Paths are relative to the Vite
 * root, which is also the mirrorstate binary's working directory. */
export interface MirrorStateOptions {
  /** A JSON file to mirror; its state is named by its base name without
   * `.json` (`state.json` is `state`). Default: `state.json` when neither
   * `file`, `files`, `dir` nor `url` is given. */
  file?: string;
  /** Several JSON files to mirror. */
  files?: string[];
  /** Mirror every `*.json` below this directory, named by relative path
   * without `.json` (`states/app/ui.json` is `app/ui`). */
  dir?: string;
  /** The mirrorstate binary. Default: `$MIRRORSTATE_BIN`, else
   * `mirrorstate` on the PATH. */
  bin?: string;
  /** Attach to a server that is already running (e.g.
   * `http://127.0.0.1:7420`) instead of starting one. */
  url?: string;
  /** More arguments for `mirrorstate serve`, e.g. `['--write-delay', '50']`. */
  args?: string[];
  /** The binary's own port. Default: a free one (the app reaches it
   * through Vite's port either way). */
  port?: number;
  /** Show a state file that does not parse in Vite's error overlay.
   * Default true. */
  overlay?: boolean;
  /** Write the current states into the served HTML
   * (`globalThis.__MIRRORSTATE__`) so the first render shows the file's
   * value. Default true. */
  inject?: boolean;
}

/** What the plugin writes into the page before any module runs, read by
 * the client: the WebSocket URL (same origin) and every state's value. */
export interface MirrorStateBoot {
  url: string;
  states: Record<string, { version: number; exists: boolean; state?: unknown }>;
}

/** `plugins: [react(), mirrorstate({ file: 'state.json' })]`: starts the
 * mirrorstate binary with the dev server (or attaches to `url`), proxies
 * `/_mirrorstate` (HTTP and WebSocket) through Vite's port, puts the
 * current states into the page, shows invalid state files in Vite's error
 * overlay and stops the binary with Vite. Dev server only. */
export default function mirrorstate(options?: MirrorStateOptions): Plugin;
export { mirrorstate };
