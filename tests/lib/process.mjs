// Child processes: output captured, exits awaited with a bound, stopped by
// pid with a signal and SIGKILL as the last resort; the CLI run to
// completion.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { BIN, WAIT } from './env.mjs';
import { sleep } from './wait.mjs';

/** This process's environment with `env` over it; a variable set to
 * undefined in `env` is left out. */
export function childEnv(env = {}) {
  const out = { ...process.env, ...env };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** A child process with its stdout, stderr and both interleaved (`output`)
 * collected as text, and its exit as a promise. `pid` is the process that
 * signals go to: the child itself unless set to one of its descendants
 * (a server behind a wrapper that does not exec it). */
export class Proc {
  constructor(proc, args = []) {
    this.proc = proc;
    this.args = args;
    this.pid = proc.pid;
    this.name = path.basename(proc.spawnfile || 'process');
    this.stdout = '';
    this.stderr = '';
    this.output = '';
    this.exit = null;
    this.stopped = false;
    this.exited = new Promise((resolve) => {
      const done = (r) => {
        if (this.exit) return;
        this.exit = r;
        resolve(r);
      };
      proc.on('exit', (code, signal) => done({ code, signal }));
      // A failed spawn (no such file) has no exit event to wait for.
      proc.on('error', (error) => { if (proc.pid === undefined) done({ code: null, signal: null, error }); });
    });
    this.closed = new Promise((resolve) => proc.on('close', resolve));
    for (const [stream, key] of [[proc.stdout, 'stdout'], [proc.stderr, 'stderr']]) {
      if (!stream) continue;
      stream.setEncoding('utf8');
      stream.on('data', (d) => {
        this[key] += d;
        this.output += d;
      });
    }
  }

  stderrTail(n = 3000) {
    return this.stderr.length > n ? '…' + this.stderr.slice(-n) : this.stderr;
  }

  /** Sends a signal to `pid`; nothing when the process is gone. */
  send(sig) {
    if (this.exit) return;
    try {
      if (this.pid === this.proc.pid) this.proc.kill(sig);
      else process.kill(this.pid, sig);
    } catch {
      // Already gone.
    }
  }

  /** Resolves with {code, signal}; after `timeout`, SIGKILL and throw. */
  async waitExit(timeout = WAIT) {
    let timer;
    const guard = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeout); });
    const r = await Promise.race([this.exited, guard]);
    clearTimeout(timer);
    if (r === null) {
      this.send('SIGKILL');
      if (this.pid !== this.proc.pid) this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not exit within ${timeout} ms; killed. stderr:\n${this.stderrTail()}`);
    }
    return r;
  }

  /** Sends `sig` and waits (bounded) for the exit; resolves {code, signal}. */
  async signal(sig = 'SIGTERM', timeout = WAIT) {
    this.stopped = true;
    this.send(sig);
    return this.waitExit(timeout);
  }

  /** SIGKILL: no clean exit expected. */
  async kill() {
    this.stopped = true;
    this.send('SIGKILL');
    return this.exited;
  }
}

/**
 * Spawns cmd (environment: childEnv(env)). With `ready`, waits
 * until ready(proc) returns true, checked on every chunk of output; rejects
 * (and kills the process) when ready throws, the process exits first, or
 * `timeout` passes. `waitingFor` and `exitedBefore` name what ready looks
 * for in those messages.
 */
export async function startProcess(cmd, argv, {
  cwd, env, stdin = 'ignore', timeout = WAIT, ready, waitingFor = 'readiness', exitedBefore = waitingFor, Class = Proc,
} = {}) {
  const proc = spawn(cmd, argv, { cwd, env: childEnv(env), stdio: [stdin, 'pipe', 'pipe'] });
  const p = new Class(proc, argv);
  if (!ready) return p;
  let timer;
  try {
    await new Promise((resolve, reject) => {
      const report = (what) => `${p.name}: ${what}\nstdout: ${p.stdout}\nstderr:\n${p.stderrTail()}`;
      timer = setTimeout(() => reject(new Error(report(`no ${waitingFor} within ${timeout} ms`))), timeout);
      const check = () => {
        try {
          if (ready(p)) resolve();
        } catch (e) {
          reject(e);
        }
      };
      proc.stdout.on('data', check);
      proc.stderr.on('data', check);
      p.exited.then((r) => reject(new Error(report(`exited before ${exitedBefore}: ${r.error ? r.error.message : JSON.stringify(r)}`))));
    });
  } catch (e) {
    if (!p.exit) {
      p.send('SIGKILL');
      await p.exited;
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return p;
}

/** Sends `signal` to a child process (a ChildProcess or a Proc) and waits
 * for its exit, SIGKILL after `timeout`. Resolves {code, signal}. */
export function stopProcess(child, signal = 'SIGTERM', timeout = WAIT) {
  const proc = child.proc ?? child;
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, signal: proc.signalCode });
    const t = setTimeout(() => proc.kill('SIGKILL'), timeout);
    proc.once('exit', (code, sig) => { clearTimeout(t); resolve({ code, signal: sig }); });
    proc.kill(signal);
  });
}

/** Whether a process with this pid exists. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Starts the binary (or `bin`) with `args` and returns { proc, done }: proc
 * collects its output, done resolves {code, signal, stdout, stderr, output}
 * once it exits (SIGKILL and a rejection after `timeout`). `input` is
 * written to its stdin; `wrap` is a command line to run it under; `env`
 * goes through childEnv().
 */
export function startCli(args, { timeout = WAIT, env, cwd, input, wrap = [], bin = BIN } = {}) {
  const [cmd, ...pre] = wrap.length ? wrap : [bin];
  const argv = wrap.length ? [...pre, bin, ...args] : args;
  const proc = spawn(cmd, argv, { cwd, env: childEnv(env), stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const p = new Proc(proc, args);
  if (input !== undefined) proc.stdin.end(input);
  const done = p.waitExit(timeout).then(async (r) => {
    // The exit can come before the last of the output: wait for the pipes.
    await Promise.race([p.closed, sleep(1000)]);
    return { ...r, stdout: p.stdout, stderr: p.stderr, output: p.output };
  });
  return { proc: p, done };
}

/** Runs the binary with `args` to completion; resolves as startCli's
 * done. */
export function runCli(args, opts = {}) {
  return startCli(args, opts).done;
}
