// The test library: one import for the server tests, the benchmark and the
// tools. Browser helpers are in browser.mjs (they load playwright).
// tests/README.md describes the API.

export { ROOT, BIN, ARTIFACTS, WAIT, QUIET, SUBPROTOCOL, WS_PATH, projectVersion } from './env.mjs';
export { sleep, until, waitFor, withTimeout } from './wait.mjs';
export { pretty, ISO_TIME, matches, applyPatch } from './json.mjs';
export { rng, seedFromEnv } from './rng.mjs';
export {
  tempDir, removeDir, readText, readJSON, waitForFile,
  saveInPlace, saveViaRename, agentWrite, saveWithSed, saveTruncateThenWrite, saveDeleteRecreate, saveMoveIn,
} from './files.mjs';
export { Proc, childEnv, startProcess, stopProcess, alive, startCli, runCli } from './process.mjs';
export { Server, launch, startServer, stopServer, assertCleanExit } from './server.mjs';
export { Client, tryConnect, connect } from './client.mjs';
export { request, raw, rawUpgrade } from './http.mjs';
export { fdCount, statusKiB, rssKiB, cpuMs, childPid } from './procfs.mjs';
export { setup } from './context.mjs';
