// Shared helpers for the browser end-to-end tests of the examples: the real
// `mirrorstate` binary ($MIRRORSTATE_BIN, default build/mirrorstate) on
// 127.0.0.1 with a free port, Debian's Chromium through playwright-core, and
// file writes done the way an agent's edit tool does them.
//
// Every wait is bounded by WAIT; nothing asserts on timing.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.resolve(ROOT, process.env.MIRRORSTATE_BIN || 'build/mirrorstate');
export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
export const WAIT = 10000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const pretty = (v) => JSON.stringify(v, null, 2) + '\n';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'mirrorstate-e2e-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts `mirrorstate serve` with the given arguments plus --host
 * 127.0.0.1 and --port (0 unless given). Resolves with { proc, url, port,
 * stderr() } once the first stdout line, the panel URL, is printed. */
export function startServer(args, { port = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['serve', ...args, '--port', String(port), '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let done = false;
    const finish = (fn, v) => { if (!done) { done = true; clearTimeout(timer); fn(v); } };
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      finish(reject, new Error(`server printed no URL within ${WAIT} ms\nstdout: ${out}\nstderr: ${err}`));
    }, WAIT);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const m = /^(http:\/\/127\.0\.0\.1:(\d+)\/_mirrorstate\/)\s*$/.exec(out.slice(0, nl));
      if (m) finish(resolve, { proc, url: m[1], base: m[1].replace(/_mirrorstate\/$/, ''), port: Number(m[2]), stderr: () => err });
      else finish(reject, new Error(`unexpected first stdout line: ${out.slice(0, nl)}`));
    });
    proc.on('error', (e) => finish(reject, e));
    proc.on('exit', (code) => finish(reject, new Error(`server exited with ${code}\nstdout: ${out}\nstderr: ${err}`)));
  });
}

/** SIGTERM, then waits (bounded) for the exit; SIGKILL as a last resort.
 * Resolves with the exit code. */
export function stopServer(s) {
  return new Promise((resolve) => {
    if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve(s?.proc.exitCode);
    const timer = setTimeout(() => { s.proc.kill('SIGKILL'); }, WAIT);
    s.proc.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    s.proc.kill('SIGTERM');
  });
}

/** Polls fn until it returns something truthy; throws after WAIT. */
export async function until(fn, what, ms = WAIT) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(25);
  }
}

/** Writes like an agent's edit tool: a temp file renamed over the target. */
export function agentWrite(file, text) {
  const t = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(t, text);
  fs.renameSync(t, file);
}

/** The file parsed, or undefined while it does not parse. */
export function readJSON(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Launches Debian's Chromium headless with a fresh profile; extraArgs are
 * added to Chromium's arguments, other options go to playwright's
 * launchPersistentContext (viewport, colorScheme, ...). */
export async function launchBrowser({ extraArgs = [], ...options } = {}) {
  const profile = tempDir('mirrorstate-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync', ...extraArgs],
    viewport: { width: 900, height: 720 },
    timeout: WAIT * 2,
    ...options,
  });
  context.setDefaultTimeout(WAIT);
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close, profile };
}

/** Collects console errors and page errors of a page, for assertions. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return errors;
}

/** Saves a screenshot to tests/artifacts/NAME.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
