// Black-box harness for the MirrorState integration tests.
//
// Starts the real `mirrorstate` binary in a fresh temporary directory, talks
// to it with WebSocket clients (the `ws` package) and with real file writes,
// and stops it at the end of each test with SIGTERM, asserting a clean exit
// (code 0: under AddressSanitizer a leak report makes the exit non-zero).
//
// Every wait is bounded. The bounds are hang guards sized for a sanitizer
// build, never timing assertions.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.MIRRORSTATE_BIN
  ? path.resolve(process.env.MIRRORSTATE_BIN)
  : path.join(ROOT, 'build', 'mirrorstate');

export const SUBPROTOCOL = 'mirrorstate.v1';
export const WS_PATH = '/_mirrorstate/ws';

/** Hang guard for a single wait (generous: the suite also runs under ASan). */
export const WAIT = 8000;
/** Window in which something must NOT happen (echoes, reformatting). */
export const QUIET = 300;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The file format: exactly what JavaScript prints. */
export const pretty = (v) => JSON.stringify(v, null, 2) + '\n';

/** The project version, as CMake declares it. */
export function projectVersion() {
  const text = fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
  const m = /project\(\s*mirrorstate\s+VERSION\s+([0-9.]+)/i.exec(text);
  return m ? m[1] : null;
}

// ---------------------------------------------------------------- matching

/** Deep "subset" match: every key of `pattern` is present in `value`. */
export function matches(value, pattern) {
  if (typeof pattern === 'function') return !!pattern(value);
  if (pattern === null || typeof pattern !== 'object') return Object.is(value, pattern);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) return false;
    return pattern.every((p, i) => matches(value[i], p));
  }
  return Object.keys(pattern).every((k) => matches(value[k], pattern[k]));
}

const describe = (p) => (typeof p === 'function' ? p.toString() : JSON.stringify(p));

// ---------------------------------------------------------------- polling

/** Poll `fn` until it returns a truthy value; bounded. */
export async function waitFor(fn, { timeout = WAIT, interval = 10, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}` + (last ? ` (last error: ${last.message})` : ''));
    }
    await sleep(interval);
  }
}

/** The file's text, or null when it does not exist. */
export function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Wait until the file's content satisfies `want`: a string (exact bytes), a
 * function(text) -> bool, or a JSON value (the file parses to it, any layout).
 */
export async function waitForFile(file, want, timeout = WAIT) {
  let text;
  const ok = () => {
    text = readText(file);
    if (text === null) return false;
    if (typeof want === 'string') return text === want;
    if (typeof want === 'function') return want(text);
    try {
      return matches(JSON.parse(text), want) && matches(want, JSON.parse(text));
    } catch {
      return false;
    }
  };
  try {
    await waitFor(ok, { timeout, message: `file ${path.basename(file)}` });
  } catch (e) {
    e.message += `\nwanted: ${typeof want === 'function' ? want.toString() : JSON.stringify(want)}\nfile holds: ${JSON.stringify(text)}`;
    throw e;
  }
  return text;
}

// ---------------------------------------------------------------- save styles

/** In-place write: open, truncate, write, close (`echo > f`, `cp` over, vim). */
export function saveInPlace(file, text) {
  fs.writeFileSync(file, text);
}

/** Write `.NAME.tmp` beside the file, then rename over it (agents' edit tools, VS Code). */
export function saveViaRename(file, text) {
  const tmp = path.join(path.dirname(file), '.' + path.basename(file) + '.tmp');
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** `sed -i EXPR FILE` (temp file + rename done by sed). */
export function saveWithSed(file, expr) {
  const r = spawnSync('sed', ['-i', expr, file], { encoding: 'utf8', timeout: WAIT });
  assert.equal(r.status, 0, `sed failed: ${r.stderr}`);
}

/** One fd: truncate, pause, write, close. */
export async function saveTruncateThenWrite(file, text, pauseMs = 50) {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.ftruncateSync(fd, 0);
    await sleep(pauseMs);
    fs.writeSync(fd, text, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** Delete the file, then create it again. */
export function saveDeleteRecreate(file, text) {
  fs.unlinkSync(file);
  fs.writeFileSync(file, text);
}

/** Write the file in another directory (same file system), then move it in. */
export function saveMoveIn(file, text, otherDir) {
  fs.mkdirSync(otherDir, { recursive: true });
  const src = path.join(otherDir, path.basename(file));
  fs.writeFileSync(src, text);
  fs.renameSync(src, file);
}

// ---------------------------------------------------------------- JSON Patch (for replicas)

function decodePointer(p) {
  if (p === '') return [];
  assert.ok(p.startsWith('/'), `bad pointer ${p}`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Apply RFC 6902 ops to a deep copy of `doc` and return the result (throws on failure). */
export function applyPatch(doc, ops) {
  let root = structuredClone(doc);
  const parentOf = (p) => {
    const toks = decodePointer(p);
    const last = toks.pop();
    let node = root;
    for (const t of toks) {
      if (node === null || typeof node !== 'object' || !(t in node)) throw new Error(`path not found: ${p}`);
      node = node[t];
    }
    return [node, last];
  };
  const get = (p) => {
    let node = root;
    for (const t of decodePointer(p)) {
      if (node === null || typeof node !== 'object' || !(t in node)) throw new Error(`path not found: ${p}`);
      node = node[t];
    }
    return node;
  };
  const add = (p, v) => {
    if (p === '') { root = v; return; }
    const [parent, key] = parentOf(p);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!(i >= 0 && i <= parent.length)) throw new Error(`bad index ${p}`);
      parent.splice(i, 0, v);
    } else parent[key] = v;
  };
  const remove = (p) => {
    const [parent, key] = parentOf(p);
    if (!(key in parent)) throw new Error(`path not found: ${p}`);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  };
  for (const op of ops) {
    switch (op.op) {
      case 'add': add(op.path, structuredClone(op.value)); break;
      case 'remove': remove(op.path); break;
      case 'replace':
        if (op.path === '') { root = structuredClone(op.value); break; }
        get(op.path);
        {
          const [parent, key] = parentOf(op.path);
          parent[Array.isArray(parent) ? Number(key) : key] = structuredClone(op.value);
        }
        break;
      case 'move': { const v = get(op.from); remove(op.from); add(op.path, v); break; }
      case 'copy': add(op.path, structuredClone(get(op.from))); break;
      case 'test': assert.deepStrictEqual(get(op.path), op.value); break;
      default: throw new Error(`unknown op ${op.op}`);
    }
  }
  return root;
}

// ---------------------------------------------------------------- server

export class Server {
  constructor(proc, args) {
    this.proc = proc;
    this.args = args;
    this.stdout = '';
    this.stderr = '';
    this.exit = null;
    this.stopped = false;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => { this.stdout += d; });
    proc.stderr.on('data', (d) => { this.stderr += d; });
  }

  get http() { return `http://127.0.0.1:${this.port}`; }
  get ws() { return `ws://127.0.0.1:${this.port}${WS_PATH}`; }

  stderrTail(n = 3000) {
    return this.stderr.length > n ? '…' + this.stderr.slice(-n) : this.stderr;
  }

  /** Resolves with {code, signal}; kills with SIGKILL after the guard. */
  async waitExit(timeout = 10000) {
    let timer;
    const guard = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeout); });
    const r = await Promise.race([this.exited, guard]);
    clearTimeout(timer);
    if (r === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`server did not exit within ${timeout} ms; killed. stderr:\n${this.stderrTail()}`);
    }
    return r;
  }

  /** Send a signal and wait for the exit; returns {code, signal}. */
  async signal(sig = 'SIGTERM', timeout = 10000) {
    this.stopped = true;
    if (!this.exit) this.proc.kill(sig);
    return this.waitExit(timeout);
  }

  /** SIGTERM and assert a clean exit (code 0, no signal). */
  async stop() {
    const r = await this.signal('SIGTERM');
    assertCleanExit(this, r);
    return r;
  }

  /** SIGKILL: no clean exit expected. */
  async kill() {
    this.stopped = true;
    if (!this.exit) this.proc.kill('SIGKILL');
    return this.exited;
  }
}

export function assertCleanExit(srv, r = srv.exit) {
  assert.ok(
    r && r.code === 0 && r.signal === null,
    `server exit was ${JSON.stringify(r)}, wanted code 0 (a sanitizer report also makes it non-zero). stderr:\n${srv.stderrTail()}`,
  );
}

/**
 * Start `mirrorstate serve` with the given options; resolves once it printed
 * its URL line. opts: files: [path], dir, args: [extra], cwd, env.
 */
export async function startServer({ files = [], dir, args = [], cwd, env } = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`server binary not found: ${BIN} (build it, or set MIRRORSTATE_BIN)`);
  const argv = ['serve'];
  for (const f of files) argv.push('--file', f);
  if (dir) argv.push('--dir', dir);
  argv.push('--port', '0', '--host', '127.0.0.1', ...args);
  const proc = spawn(BIN, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const srv = new Server(proc, argv);
  let timer;
  try {
    await new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no URL line on stdout within 10 s.\nstdout: ${srv.stdout}\nstderr:\n${srv.stderrTail()}`)), 10000);
      const check = () => {
        const m = /\bhttps?:\/\/[^\s/]+:(\d+)\//.exec(srv.stdout);
        if (m) { srv.port = Number(m[1]); resolve(); }
      };
      proc.stdout.on('data', check);
      proc.on('error', reject);
      srv.exited.then((r) => reject(new Error(`server exited before serving: ${JSON.stringify(r)}\nstderr:\n${srv.stderrTail()}`)));
    });
  } catch (e) {
    if (!srv.exit) { proc.kill('SIGKILL'); await srv.exited; }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return srv;
}

/** Run the binary to completion (CLI checks); bounded. */
export async function runCli(args, { timeout = 10000, env, cwd } = {}) {
  const proc = spawn(BIN, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const srv = new Server(proc, args);
  const r = await srv.waitExit(timeout);
  return { ...r, stdout: srv.stdout, stderr: srv.stderr };
}

// ---------------------------------------------------------------- WebSocket client

export class Client {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.queue = [];   // not yet consumed by next()
    this.log = [];     // everything received, for diagnostics
    this.waiters = new Set();
    this.replicas = new Map();
    this.pending = new Map();
    this.refSeq = 1;
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of this.waiters) w();
      });
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        msg = { __raw: data.toString(), __binary: isBinary };
      }
      this.log.push(msg);
      this.queue.push(msg);
      this.#track(msg);
      for (const w of this.waiters) w();
    });
  }

  #track(m) {
    if (!m || typeof m !== 'object' || !this.replicas.has(m.name)) return;
    const r = this.replicas.get(m.name);
    try {
      if (m.type === 'snapshot') {
        r.version = m.version;
        r.state = m.exists === false ? undefined : structuredClone(m.state);
        r.error = undefined;
      } else if (m.type === 'patch') {
        r.version = m.version;
        r.state = applyPatch(r.state, m.ops);
      } else if (m.type === 'ack' && this.pending.has(JSON.stringify(m.ref))) {
        const change = this.pending.get(JSON.stringify(m.ref));
        this.pending.delete(JSON.stringify(m.ref));
        if (m.version !== r.version) r.state = change.ops ? applyPatch(r.state, change.ops) : structuredClone(change.state);
        r.version = m.version;
      }
    } catch (e) {
      // The client's view broke (a patch that does not apply to it): keep a
      // marker that never equals a real state, so waits on it fail loudly.
      r.state = { __replicaError: `${e.message} applying ${JSON.stringify(m)}` };
    }
  }

  get id() { return this.hello?.client; }
  get origin() { return `client:${this.hello?.client}`; }

  history(last = 40) {
    const clip = (t) => (t.length > 400 ? t.slice(0, 400) + `…(${t.length} chars)` : t);
    const lines = this.log.slice(-last).map((m) => clip(JSON.stringify(m)));
    if (this.log.length > last) lines.unshift(`…(${this.log.length - last} earlier messages)`);
    return lines.join('\n');
  }

  /** Wait until the connection is closed; resolves {code, reason}. */
  async waitClosed(timeout = WAIT) {
    let timer;
    const r = await Promise.race([this.closed, new Promise((res) => { timer = setTimeout(() => res(null), timeout); })]);
    clearTimeout(timer);
    if (!r) throw new Error(`[${this.label}] not closed within ${timeout} ms; received:\n${this.history()}`);
    return r;
  }

  /** Wait for (and consume) the first queued message matching `pred`. */
  next(pred = () => true, timeout = WAIT) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.queue.findIndex((m) => matches(m, pred));
        if (i >= 0) {
          done();
          resolve(this.queue.splice(i, 1)[0]);
        } else if (this.closeInfo) {
          done();
          reject(new Error(`[${this.label}] connection closed (${JSON.stringify(this.closeInfo)}) while waiting for ${describe(pred)}; received:\n${this.history()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`[${this.label}] timed out after ${timeout} ms waiting for ${describe(pred)}; received:\n${this.history()}`));
      }, timeout);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Assert that no message matching `pred` is queued or arrives within `ms`. */
  async expectNone(pred, ms = QUIET) {
    const found = () => this.queue.find((m) => matches(m, pred));
    if (!found()) await sleep(ms);
    const m = found();
    assert.equal(m, undefined, `[${this.label}] unexpected message ${JSON.stringify(m)} (matching ${describe(pred)}); received:\n${this.history()}`);
  }

  /** All queued messages matching `pred`, consumed. */
  take(pred) {
    const out = [];
    this.queue = this.queue.filter((m) => (matches(m, pred) ? (out.push(m), false) : true));
    return out;
  }

  send(obj) { this.ws.send(JSON.stringify(obj)); }
  sendRaw(text) { this.ws.send(text); }

  /** Subscribe and wait for the answering snapshot. */
  async subscribe(name, init) {
    if (!this.replicas.has(name)) this.replicas.set(name, { version: undefined, state: undefined });
    const msg = { type: 'subscribe', name };
    if (init !== undefined) msg.init = init;
    this.send(msg);
    return this.next({ type: 'snapshot', name });
  }

  /** The client's view of a subscribed state (snapshot + patches + own acks). */
  replica(name) { return this.replicas.get(name); }

  /** Send a patch; returns its ref. */
  patch(name, ops, { base, ref } = {}) {
    if (ref === undefined) ref = `${this.label}-${this.refSeq++}`;
    this.pending.set(JSON.stringify(ref), { ops });
    const msg = { type: 'patch', name, ops, ref };
    if (base !== undefined) msg.base = base;
    this.send(msg);
    return ref;
  }

  /** Send a set (whole replacement); returns its ref. */
  set(name, state, { base, ref } = {}) {
    if (ref === undefined) ref = `${this.label}-${this.refSeq++}`;
    this.pending.set(JSON.stringify(ref), { state });
    const msg = { type: 'set', name, state, ref };
    if (base !== undefined) msg.base = base;
    this.send(msg);
    return ref;
  }

  /** Send a patch and wait for its ack (fails on an error with its ref). */
  async patchAcked(name, ops, opts = {}) {
    const ref = this.patch(name, ops, opts);
    const m = await this.next((x) => (x.type === 'ack' || x.type === 'error') && matches(x.ref, ref));
    assert.equal(m.type, 'ack', `patch ${JSON.stringify(ops)} was not acked: ${JSON.stringify(m)}`);
    return m;
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/**
 * Try a WebSocket upgrade. Resolves {status: 101, client} on success (after
 * the hello when waitHello), or {status, body} when the server refused it.
 */
export function tryConnect(srv, { path: p = WS_PATH, origin, headers, protocol = SUBPROTOCOL, label = 'client', waitHello = true } = {}) {
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${srv.port}${p}`;
    const ws = new WebSocket(url, protocol ? [protocol] : [], { origin, headers, handshakeTimeout: WAIT, maxPayload: 256 * 1024 * 1024 });
    const c = new Client(ws, label);
    let settled = false;
    const finish = (fn, v) => { if (!settled) { settled = true; fn(v); } };
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => finish(resolve, { status: res.statusCode, body }));
      res.on('error', () => finish(resolve, { status: res.statusCode, body }));
      setTimeout(() => { finish(resolve, { status: res.statusCode, body }); req.destroy(); }, 1000);
    });
    ws.on('error', (e) => finish(reject, new Error(`[${label}] WebSocket error: ${e.message}\nserver stderr:\n${srv.stderrTail()}`)));
    ws.on('open', async () => {
      if (!waitHello) return finish(resolve, { status: 101, client: c });
      try {
        c.hello = await c.next({ type: 'hello' });
        finish(resolve, { status: 101, client: c });
      } catch (e) {
        finish(reject, e);
      }
    });
  });
}

// ---------------------------------------------------------------- HTTP

export function request(srv, p, { method = 'GET', headers = {}, body, timeout = WAIT } = {}) {
  return new Promise((resolve, reject) => {
    // Fixed bodies go with a Content-Length, as fetch() and curl send them;
    // one connection per request, so no test depends on keep-alive reuse.
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const hdrs = { ...headers };
    if (data && !Object.keys(hdrs).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) hdrs['Content-Length'] = data.length;
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: p, method, headers: hdrs, timeout, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP ${method} ${p} timed out`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// ---------------------------------------------------------------- per-test context

/**
 * setup(t): a fresh temp dir and helpers whose servers and clients are
 * cleaned up after the test. Servers still running are stopped with SIGTERM
 * and must exit with code 0.
 */
export function setup(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorstate-it-'));
  const servers = [];
  const clients = [];
  let n = 0;
  const h = {
    dir,
    path: (...p) => path.join(dir, ...p),
    /** Write a state file pretty-printed (or a raw string) and return its path. */
    file(name, value) {
      const p = path.join(dir, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, typeof value === 'string' ? value : pretty(value));
      return p;
    },
    async server(opts = {}) {
      const srv = await startServer({ cwd: dir, ...opts });
      servers.push(srv);
      return srv;
    },
    async client(srv, opts = {}) {
      const label = opts.label || `c${++n}`;
      const r = await tryConnect(srv, { ...opts, label });
      assert.equal(r.status, 101, `[${label}] upgrade refused with HTTP ${r.status}: ${r.body}`);
      clients.push(r.client);
      return r.client;
    },
    /** Like client() but returns the raw {status, client|body} answer. */
    async attempt(srv, opts = {}) {
      const r = await tryConnect(srv, { ...opts, label: opts.label || `c${++n}` });
      if (r.client) clients.push(r.client);
      return r;
    },
  };
  t.after(async () => {
    const errors = [];
    for (const s of servers) {
      if (s.stopped) continue;
      try { await s.stop(); } catch (e) { errors.push(e); }
    }
    for (const c of clients) c.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (errors.length) throw errors[0];
  });
  return h;
}
