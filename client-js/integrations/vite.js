// The MirrorState Vite plugin: the mirrorstate binary behind Vite's own dev
// server, so the app, the client and the devtools panel share one origin.
//
//   // vite.config.js
//   import mirrorstate from 'mirrorstate-client/vite';
//   export default defineConfig({ plugins: [react(), mirrorstate({ file: 'state.json' })] });
//
// On `vite` (dev server only) it starts `mirrorstate serve` on a free
// loopback port with the Vite root as its working directory (or attaches to
// a running server given as `url`), proxies /_mirrorstate (HTTP and
// WebSocket) to it, writes the current states into the served HTML as
// `globalThis.__MIRRORSTATE__` so the first render shows the file's value,
// shows an invalid state file in Vite's error overlay, prints the panel URL
// with Vite's own URLs, and stops the binary when Vite stops.
//
// Node-only: this module is loaded by vite.config, never by the browser.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

const PREFIX = '/_mirrorstate';
const START_TIMEOUT = 10000;   // the binary must print its URL by then
const STOP_TIMEOUT = 3000;     // then SIGKILL
const FETCH_TIMEOUT = 2000;
const POLL_INTERVAL = 250;     // how often file status is checked for the overlay

export const INSTALL_HINT =
  'Install the mirrorstate binary and put it on your PATH, set MIRRORSTATE_BIN=/path/to/mirrorstate, ' +
  'or pass mirrorstate({ bin: "/path/to/mirrorstate" }). To build it: scripts/deps.sh && make build ' +
  '(in the MirrorState repository), then install -m 755 build/mirrorstate /usr/local/bin/.';

/** The plugin. Options (all optional):
 *   file   a state file to mirror, relative to the Vite root (default
 *          'state.json' when neither file, files nor dir is given)
 *   files  several state files
 *   dir    mirror every *.json below this directory
 *   bin    the mirrorstate binary (else $MIRRORSTATE_BIN, else PATH)
 *   url    attach to a server already running there instead of starting one
 *   args   more command-line arguments for `mirrorstate serve`
 *   port   the binary's port (default: a free one)
 *   overlay  show invalid state files in Vite's error overlay (default true)
 *   inject   write the current states into the served HTML (default true) */
export default function mirrorstate(options = {}) {
  const opts = checkOptions(options);
  let target = null;      // http://127.0.0.1:PORT of the binary
  let child = null;       // the binary, when we started it
  let logger = console;
  let stopping = null;
  let poller = null;
  let overlayError = null; // the Vite error payload shown now, or null
  let names = [];

  const stop = () => {
    if (poller) clearInterval(poller);
    poller = null;
    if (!stopping) stopping = child ? stopChild(child) : Promise.resolve();
    return stopping;
  };

  return {
    name: 'mirrorstate',
    apply: 'serve',

    config(_config, env) {
      if (env.isPreview) return undefined;
      return {
        server: {
          proxy: {
            [PREFIX]: {
              target: 'http://127.0.0.1',
              ws: true,
              // The binary checks Host and Origin itself: pass them on as
              // the browser sent them (see allowedHostArgs).
              changeOrigin: false,
              configure(_proxy, proxyOptions) {
                // Called once the binary runs (configureServer comes first).
                if (target) proxyOptions.target = target;
              },
            },
          },
        },
      };
    },

    async configureServer(server) {
      logger = server.config.logger;
      const root = server.config.root;
      if (opts.url) {
        target = new URL(opts.url).origin.replace(/^ws/, 'http');
      } else {
        const bin = findBinary(opts.bin);
        const args = ['serve', ...stateArgs(opts), '--host', '127.0.0.1', '--port', String(opts.port ?? 0),
          ...allowedHostArgs(server.config.server), ...opts.args];
        const started = await startBinary(bin, args, root, logger);
        child = started.child;
        target = started.url;
        const onSignal = (signal) => {
          killNow(child);
          process.off(signal, onSignal);
          // Keep the default behaviour (exit) when nobody else handles it.
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        };
        const onExit = () => killNow(child);
        process.on('SIGINT', onSignal);
        process.on('SIGHUP', onSignal);
        process.on('exit', onExit);
        child.once('exit', (code, signal) => {
          process.off('SIGINT', onSignal);
          process.off('SIGHUP', onSignal);
          process.off('exit', onExit);
          if (stopping) return;
          const why = signal ? `signal ${signal}` : `exit status ${code}`;
          logger.error(`[mirrorstate] the mirrorstate server stopped (${why}); ${PREFIX} is down until Vite restarts.`, { timestamp: true });
          if (opts.overlay) {
            overlayError = { message: `MirrorState: the mirrorstate server stopped (${why}). Restart Vite.`, stack: '', plugin: 'mirrorstate' };
            server.ws.send({ type: 'error', err: overlayError });
          }
        });
      }
      server.httpServer?.once('close', stop);

      // The panel's URL beside Vite's own, in the start-up banner.
      const printUrls = server.printUrls;
      server.printUrls = () => {
        printUrls.call(server);
        const base = server.resolvedUrls?.local?.[0] ?? server.resolvedUrls?.network?.[0];
        if (!base) return;
        const panel = new URL(`${PREFIX}/`, base).href;
        const what = names.length ? `  (${names.join(', ')})` : '';
        server.config.logger.info(`  \u279c  MirrorState: ${panel}${what}`);
      };

      const list = await fetchJSON(`${target}${PREFIX}/api/states`).catch((e) => {
        logger.warn(`[mirrorstate] cannot list the states at ${target}: ${e.message}`, { timestamp: true });
        return null;
      });
      names = list?.states?.map((s) => s.name) ?? [];

      if (opts.overlay) {
        // A page that loads while a file is invalid gets the overlay too.
        server.ws.on('vite:client:connect', (_data, client) => {
          if (overlayError) client.send({ type: 'error', err: overlayError });
        });
        let busy = false;
        let lastKey = '';
        poller = setInterval(async () => {
          if (busy || stopping) return;
          busy = true;
          try {
            const res = await fetchJSON(`${target}${PREFIX}/api/states`);
            names = res.states.map((s) => s.name);
            const bad = res.states.filter((s) => s.status === 'invalid' && s.error);
            const key = JSON.stringify(bad.map((s) => [s.name, s.error]));
            if (key === lastKey) return;
            lastKey = key;
            if (bad.length) {
              overlayError = fileErrorPayload(bad[0], root);
              server.ws.send({ type: 'error', err: overlayError });
            } else if (overlayError) {
              overlayError = null;
              // An empty update clears Vite's overlay (a page that showed
              // the overlay since it loaded is reloaded instead).
              server.ws.send({ type: 'update', updates: [] });
            }
          } catch {
            // The server is starting or stopping; the next round tells.
          } finally {
            busy = false;
          }
        }, POLL_INTERVAL);
        poller.unref?.();
      }
    },

    transformIndexHtml: {
      order: 'pre',
      async handler(_html, ctx) {
        if (!ctx.server || !target || !opts.inject) return undefined;
        const boot = await bootData(target).catch((e) => {
          logger.warn(`[mirrorstate] cannot read the states for the page: ${e.message}`, { timestamp: true });
          return { url: `${PREFIX}/ws`, states: {} };
        });
        return [{ tag: 'script', children: `globalThis.__MIRRORSTATE__ = ${scriptJSON(boot)};`, injectTo: 'head-prepend' }];
      },
    },

    closeServer: stop,
    buildEnd: stop,
  };
}

export { mirrorstate };

function checkOptions(o) {
  if (o === null || typeof o !== 'object') throw new TypeError('mirrorstate(): options must be an object');
  const known = new Set(['file', 'files', 'dir', 'bin', 'url', 'args', 'port', 'overlay', 'inject']);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new TypeError(`mirrorstate(): unknown option "${k}" (known: ${[...known].join(', ')})`);
  }
  const str = (k) => {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) throw new TypeError(`mirrorstate(): ${k} must be a non-empty string`);
  };
  ['file', 'dir', 'bin', 'url'].forEach(str);
  const files = [...(o.file ? [o.file] : []), ...(o.files ?? [])];
  if (!Array.isArray(o.files ?? []) || files.some((f) => typeof f !== 'string' || f === '')) {
    throw new TypeError('mirrorstate(): files must be an array of file names');
  }
  if (!Array.isArray(o.args ?? []) || (o.args ?? []).some((a) => typeof a !== 'string')) {
    throw new TypeError('mirrorstate(): args must be an array of strings');
  }
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port < 65536)) {
    throw new TypeError('mirrorstate(): port must be an integer from 0 to 65535');
  }
  if (o.url !== undefined) {
    let u;
    try { u = new URL(o.url); } catch { throw new TypeError(`mirrorstate(): url is not a URL: ${o.url}`); }
    if (!/^(http|https|ws|wss):$/.test(u.protocol)) throw new TypeError(`mirrorstate(): url must be http(s) or ws(s): ${o.url}`);
  }
  if (files.length === 0 && !o.dir && !o.url) files.push('state.json');
  return {
    files, dir: o.dir, bin: o.bin, url: o.url, args: o.args ?? [], port: o.port,
    overlay: o.overlay !== false, inject: o.inject !== false,
  };
}

function stateArgs(opts) {
  const a = [];
  for (const f of opts.files) a.push('--file', f);
  if (opts.dir) a.push('--dir', opts.dir);
  return a;
}

/** The binary's Host/Origin allowlist follows Vite's: every host name in
 * server.allowedHosts and server.host, and, when Vite listens beyond
 * loopback, this machine's addresses (Vite accepts any IP address). */
export function allowedHostArgs(serverConfig = {}) {
  const hosts = new Set();
  const allowed = serverConfig.allowedHosts;
  if (Array.isArray(allowed)) {
    for (const h of allowed) if (typeof h === 'string' && h && !h.startsWith('.')) hosts.add(h);
  }
  const host = serverConfig.host;
  if (typeof host === 'string' && host && host !== '0.0.0.0' && host !== '::') hosts.add(host);
  if (host === true || host === '0.0.0.0' || host === '::') {
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) hosts.add(a.address.replace(/%.*$/, ''));
    }
  }
  return [...hosts].flatMap((h) => ['--allow-host', h]);
}

/** Where the binary is: `bin`, else $MIRRORSTATE_BIN, else `mirrorstate`
 * on the PATH. Throws with the install hint when there is none. */
export function findBinary(bin, env = process.env) {
  const given = bin ?? (env.MIRRORSTATE_BIN || undefined);
  if (given) {
    const p = path.resolve(given);
    if (!isExecutable(p)) {
      const from = bin ? 'the bin option' : 'MIRRORSTATE_BIN';
      throw new Error(`mirrorstate: ${from} names ${p}, which is not an executable file. ${INSTALL_HINT}`);
    }
    return p;
  }
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'mirrorstate');
    if (isExecutable(p)) return p;
  }
  throw new Error(`mirrorstate: the mirrorstate binary is not on the PATH. ${INSTALL_HINT}`);
}

function isExecutable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Starts `bin args` in cwd and resolves with { child, url } once it prints
 * its URL line (http://127.0.0.1:PORT/_mirrorstate/). Its log goes to
 * Vite's logger. */
function startBinary(bin, args, cwd, logger) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = false;
    const fail = (msg) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      killNow(child);
      reject(new Error(msg));
    };
    const timer = setTimeout(() => fail(`mirrorstate: ${bin} printed no URL within ${START_TIMEOUT / 1000} s\n${err}`), START_TIMEOUT);
    child.on('error', (e) => fail(`mirrorstate: cannot start ${bin}: ${e.message}. ${INSTALL_HINT}`));
    child.once('exit', (code, signal) => {
      const cmd = ['mirrorstate', ...args].join(' ');
      fail(`mirrorstate: \`${cmd}\` (in ${cwd}) exited with ${signal || `status ${code}`} before serving:\n${err.trim()}`);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      if (!done) { err += d; return; }
      logLines(d, logger);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      if (done) return;
      out += d;
      const m = /^(https?:\/\/[^/\s]+)\/_mirrorstate\/\s*$/m.exec(out);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      logLines(err, logger);
      resolve({ child, url: m[1] });
    });
  });
}

function logLines(text, logger) {
  for (const line of String(text).split('\n')) {
    if (!line.trim() || /^mirrorstate: mirroring .*; stop with Ctrl-C/.test(line)) continue;
    const msg = `[mirrorstate] ${line.replace(/^mirrorstate: /, '')}`;
    if (/\berror\b/i.test(line)) logger.error(msg, { timestamp: true });
    else if (/\bwarning\b/i.test(line)) logger.warn(msg, { timestamp: true });
    else logger.info(msg, { timestamp: true });
  }
}

function killNow(child) {
  if (child && child.exitCode === null && child.signalCode === null) {
    try { child.kill('SIGTERM'); } catch { /* already gone */ }
  }
}

/** SIGTERM (the binary saves pending writes and exits), SIGKILL after
 * STOP_TIMEOUT; resolves once it has exited. */
function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    killNow(child);
  });
}

/** GET url; resolves with { status, headers, body } (body as text). */
function get(url) {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { timeout: FETCH_TIMEOUT }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${FETCH_TIMEOUT} ms`)));
    req.on('error', reject);
  });
}

async function fetchJSON(url) {
  const r = await get(url);
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
  return JSON.parse(r.body);
}

/** What the page starts with: { url, states: { NAME: { version, exists,
 * state } } }, read from the server's HTTP API. */
export async function bootData(target) {
  const list = await fetchJSON(`${target}${PREFIX}/api/states`);
  const states = {};
  await Promise.all(list.states.map(async (s) => {
    if (!s.exists) {
      states[s.name] = { version: 0, exists: false };
      return;
    }
    const r = await get(`${target}${PREFIX}/api/states/${s.name.split('/').map(encodeURIComponent).join('/')}`);
    if (r.status === 404) {
      states[s.name] = { version: 0, exists: false };
      return;
    }
    if (r.status !== 200) throw new Error(`state ${s.name}: HTTP ${r.status}`);
    states[s.name] = { version: Number(r.headers['x-mirrorstate-version']) || s.version, exists: true, state: JSON.parse(r.body) };
  }));
  return { url: `${PREFIX}/ws`, states };
}

/** JSON that is safe inside an HTML <script>: no "</script>", no "<!--". */
export function scriptJSON(value) {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The Vite error payload for a state whose file does not parse: the file's
 * path with line and column, the message, and a code frame. */
export function fileErrorPayload(s, root) {
  const { line, column, message } = s.error;
  const file = s.file;
  const shown = root && file.startsWith(root + path.sep) ? path.relative(root, file) : file;
  let frame = '';
  try {
    frame = codeFrame(fs.readFileSync(file, 'utf8'), line, column);
  } catch {
    frame = s.error.text !== undefined ? `${line} | ${s.error.text}\n${' '.repeat(String(line).length)} | ${' '.repeat(Math.max(0, column - 1))}^` : '';
  }
  return {
    message: `${shown}:${line}:${column}: invalid JSON: ${message}\n` +
      `MirrorState keeps serving the last good state of "${s.name}" and will not overwrite the file until it is fixed.`,
    stack: '',
    id: file,
    frame,
    plugin: 'mirrorstate',
    loc: { file, line, column },
  };
}

/** Up to two lines either side of `line`, with a caret under `column`, in
 * the layout of Vite's own code frames (the overlay trims the first line's
 * leading blanks, so numbers are left-aligned). */
export function codeFrame(text, line, column) {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const width = String(to).length;
  const out = [];
  for (let n = from; n <= to; n++) {
    out.push(`${String(n).padEnd(width)} | ${lines[n - 1]}`);
    if (n === line) out.push(`${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}
