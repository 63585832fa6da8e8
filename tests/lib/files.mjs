// Temporary directories, reading state files, waiting for their content,
// and the ways editors and agents save a file.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WAIT } from './env.mjs';
import { matches } from './json.mjs';
import { sleep, waitFor } from './wait.mjs';

/** A fresh temporary directory; remove it with removeDir(). */
export function tempDir(prefix = 'mirrorstate-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** rm -rf; nothing happens when dir is undefined or gone. */
export function removeDir(dir) {
  // Retried: a process that just exited may still have had a write under
  // way (a dev server's cache), which fails a single pass with ENOTEMPTY.
  if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
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

/** The file parsed, or undefined while it is missing or does not parse. */
export function readJSON(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Waits until the file's content satisfies `want`: a string (exact bytes),
 * a function(text) -> bool, or a JSON value (the file parses to it, any
 * layout). Resolves with the text.
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

/** Write `.NAME.tmp` beside the file, then rename it over the file: how
 * agents' edit tools and VS Code save. */
export function saveViaRename(file, text) {
  const tmp = path.join(path.dirname(file), '.' + path.basename(file) + '.tmp');
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The browser tests' name for saveViaRename: a write as an agent does it. */
export const agentWrite = saveViaRename;

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
