// The real server: `mirrorstate serve` on 127.0.0.1 with a free port (port
// 0; the port is read from the URL line it prints first), its stderr
// captured, stopped by pid with SIGTERM and SIGKILL after a bounded wait.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BIN, WAIT, WS_PATH } from './env.mjs';
import { Proc, startProcess } from './process.mjs';

/** The first line `serve` prints: the panel's URL. */
const URL_LINE = /^(https?:\/\/[^\s/]+:(\d+)\/_mirrorstate\/)\s*$/;

/** A server process. Once listening: port, url (the printed URL line,
 * the panel), base (the site root, ending in /), http (base without the
 * slash) and ws (the WebSocket URL). */
export class Server extends Proc {
  listening(line) {
    const m = URL_LINE.exec(line);
    this.url = m[1];
    this.port = Number(m[2]);
    this.base = this.url.slice(0, -'_mirrorstate/'.length);
    this.http = this.base.slice(0, -1);
    this.ws = this.http.replace(/^http/, 'ws') + WS_PATH;
  }

  /** SIGTERM and assert a clean exit (code 0, no signal). */
  async stop(timeout = WAIT) {
    const r = await this.signal('SIGTERM', timeout);
    assertCleanExit(this, r);
    return r;
  }
}

/** Asserts exit code 0 and no signal; under a sanitizer a leak report
 * makes the code non-zero. */
export function assertCleanExit(srv, r = srv.exit) {
  assert.ok(
    r && r.code === 0 && r.signal === null,
    `server exit was ${JSON.stringify(r)}, wanted code 0 (a sanitizer report also makes it non-zero). stderr:\n${srv.stderrTail()}`,
  );
}

/**
 * Starts any program that prints a MirrorState URL line first on stdout
 * (the server, the benchmark's reference server); resolves with a Server
 * once it has. Options as for startProcess.
 */
export function launch(cmd, argv, opts = {}) {
  return startProcess(cmd, argv, {
    ...opts,
    Class: Server,
    waitingFor: 'URL line on stdout',
    exitedBefore: 'serving',
    ready: (p) => {
      const nl = p.stdout.indexOf('\n');
      if (nl < 0) return false;
      const line = p.stdout.slice(0, nl);
      if (!URL_LINE.test(line)) throw new Error(`unexpected first line on stdout: ${line}\nstderr:\n${p.stderrTail()}`);
      p.listening(line);
      return true;
    },
  });
}

/**
 * Starts `mirrorstate serve --file F... --dir D --port P --host H ARGS...`
 * and resolves once it printed its URL. Options: files, dir, args, port (0),
 * host ('127.0.0.1'; null leaves --host out), cwd, env (added to this
 * process's), wrap (a command line to run it under: valgrind, ip netns
 * exec, ...), bin, timeout.
 */
export async function startServer({
  files = [], dir, args = [], port = 0, host = '127.0.0.1', cwd, env, wrap = [], bin = BIN, timeout = WAIT,
} = {}) {
  if (!fs.existsSync(bin)) throw new Error(`server binary not found: ${bin} (build it, or set MIRRORSTATE_BIN)`);
  const argv = ['serve'];
  for (const f of files) argv.push('--file', f);
  if (dir) argv.push('--dir', dir);
  argv.push('--port', String(port));
  if (host) argv.push('--host', host);
  argv.push(...args);
  const [cmd, ...pre] = wrap.length ? wrap : [bin];
  const srv = await launch(cmd, wrap.length ? [...pre, bin, ...argv] : argv, { cwd, env, timeout });
  srv.args = argv;
  return srv;
}

/** SIGTERM, a bounded wait, SIGKILL as the last resort; resolves with the
 * exit code (null when killed). Never throws; nothing to do for a server
 * that is undefined or gone. */
export async function stopServer(s, timeout = WAIT) {
  if (!s) return undefined;
  try {
    return (await s.signal('SIGTERM', timeout)).code;
  } catch {
    return s.exit?.code ?? null;
  }
}
