// The browser tests' helpers under their old names, for tests written
// against this module: everything lives in tests/lib (tests/README.md).
import { startServer as start } from '../lib/index.mjs';

export {
  ROOT, BIN, WAIT, sleep, pretty, tempDir, stopServer, until, agentWrite, readJSON,
} from '../lib/index.mjs';
export { ARTIFACTS, launchBrowser, watchErrors, screenshot } from '../lib/browser.mjs';

/** startServer(args, { port }) with stderr() a function, as this module
 * had it; tests/lib's startServer takes an options object. */
export async function startServer(args, { port = 0 } = {}) {
  const s = await start({ args, port });
  return Object.assign(Object.create(s), { stderr: () => s.stderr });
}
