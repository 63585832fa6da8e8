// Helpers for the package tests: pack mirrorstate-client with `npm pack`,
// make a fresh Vite + React + TypeScript app from app-template/ in a
// temporary directory, install the packed tarball into it the way a user
// does (`npm install mirrorstate-client-X.tgz`, never a link to the
// source), and run its Vite dev server.
//
// app-template/ holds the app's sources and a lock file; scripts/deps.sh
// runs `npm ci` there, and each test copies it with its node_modules.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, WAIT, tempDir } from '../e2e/lib.mjs';

export const TEMPLATE = path.join(ROOT, 'tests', 'package', 'app-template');
export const CLIENT = path.join(ROOT, 'client-js');
const NPM_TIMEOUT = 180000;

/** `npm pack` of client-js into dir; returns { tarball, files } (the
 * packed paths, from npm's own report). */
export function pack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: CLIENT, encoding: 'utf8', timeout: NPM_TIMEOUT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out);
  return { tarball: path.join(dir, info.filename), files: info.files.map((f) => f.path).sort() };
}

/** A fresh copy of the template app in a temporary directory, with the
 * tarball installed. Returns { dir, app, cleanup }. */
export function makeApp(tarball) {
  if (!fs.existsSync(path.join(TEMPLATE, 'node_modules', 'vite'))) {
    throw new Error(`the template app is not installed: run scripts/deps.sh (npm ci in ${TEMPLATE})`);
  }
  const dir = tempDir('mirrorstate-pkg-');
  const app = path.join(dir, 'app');
  fs.cpSync(TEMPLATE, app, { recursive: true, verbatimSymlinks: true });
  fs.copyFileSync(tarball, path.join(dir, path.basename(tarball)));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error',
    `../${path.basename(tarball)}`], { cwd: app, encoding: 'utf8', timeout: NPM_TIMEOUT, stdio: ['ignore', 'pipe', 'pipe'] });
  return { dir, app, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Runs the app's `vite` dev server on a free port. Resolves with { proc,
 * url, panel, output() } once the banner shows both the app's and the
 * panel's URL. */
export function startVite(app, env = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['node_modules/vite/bin/vite.js', '--port', '0', '--strictPort'], {
      cwd: app, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let done = false;
    const finish = (fn, v) => { if (!done) { done = true; clearTimeout(timer); fn(v); } };
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      finish(reject, new Error(`vite printed no URLs within ${WAIT * 3} ms\n${out}`));
    }, WAIT * 3);
    const onData = (d) => {
      out += stripAnsi(String(d));
      const local = /Local:\s+(http:\/\/\S+)/.exec(out);
      const panel = /MirrorState:\s+(http:\/\/\S+)/.exec(out);
      if (local && panel) finish(resolve, { proc, url: local[1], panel: panel[1], output: () => out });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (e) => finish(reject, e));
    proc.on('exit', (code, signal) => finish(reject, new Error(`vite exited (${signal || code}) before serving\n${out}`)));
  });
}

/** Sends `signal` to a process and waits (bounded) for its exit; SIGKILL as
 * a last resort. Resolves with { code, signal }. */
export function stopProcess(proc, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, signal: proc.signalCode });
    const t = setTimeout(() => proc.kill('SIGKILL'), WAIT);
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
