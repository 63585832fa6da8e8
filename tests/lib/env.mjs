// Where things are, and the bounds every wait uses.
//
// The bounds are hang guards sized for a sanitizer build on a busy machine,
// never timing assertions: a test that passes does not get near them.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The server binary: $MIRRORSTATE_BIN (relative to the working
 * directory), else build/mirrorstate. */
export const BIN = process.env.MIRRORSTATE_BIN
  ? path.resolve(process.env.MIRRORSTATE_BIN)
  : path.join(ROOT, 'build', 'mirrorstate');

/** Screenshots and other files a run leaves for people to look at. */
export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');

/** Hang guard for one wait: a message, a file, a process start or exit. */
export const WAIT = 10000;

/** Window in which something must NOT happen (echoes, reformatting). */
export const QUIET = 300;

export const SUBPROTOCOL = 'mirrorstate.v1';
export const WS_PATH = '/_mirrorstate/ws';

/** The project version, as CMake declares it. */
export function projectVersion() {
  const text = fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
  const m = /project\(\s*mirrorstate\s+VERSION\s+([0-9.]+)/i.exec(text);
  return m ? m[1] : null;
}
