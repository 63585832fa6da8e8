// Helpers for the package tests: pack mirrorstate-client with `npm pack`,
// make a fresh Vite + React + TypeScript app from app-template/ in a
// temporary directory, install the packed tarball into it the way a user
// does (`npm install mirrorstate-client-X.tgz`, never a link to the
// source), and run its Vite dev server.
//
// app-template/ holds the app's sources and a lock file; scripts/deps.sh
// runs `npm ci` there, and each test copies it with its node_modules.
// Servers, browsers and processes come from tests/lib.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, WAIT, removeDir, startProcess, tempDir } from '../lib/index.mjs';

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
  return { dir, app, cleanup: () => removeDir(dir) };
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Runs the app's `vite` dev server on a free port. Resolves with { proc,
 * url, panel, output() } once the banner shows both the app's and the
 * panel's URL. */
export async function startVite(app, env = {}) {
  let local, panel;
  const p = await startProcess(process.execPath, ['node_modules/vite/bin/vite.js', '--port', '0', '--strictPort'], {
    cwd: app,
    env,
    timeout: WAIT * 3,
    waitingFor: 'URLs from vite',
    ready: (v) => {
      const out = stripAnsi(v.output);
      local = /Local:\s+(http:\/\/\S+)/.exec(out);
      panel = /MirrorState:\s+(http:\/\/\S+)/.exec(out);
      return local && panel;
    },
  });
  return { proc: p.proc, url: local[1], panel: panel[1], output: () => stripAnsi(p.output) };
}
