// The integration tests' helpers under their old names, for tests written
// against this module: everything lives in tests/lib (tests/README.md).
export {
  ROOT, BIN, SUBPROTOCOL, WS_PATH, WAIT, QUIET, sleep, pretty, projectVersion, matches, waitFor,
  readText, waitForFile, saveInPlace, saveViaRename, saveWithSed, saveTruncateThenWrite,
  saveDeleteRecreate, saveMoveIn, applyPatch, Server, assertCleanExit, startServer, runCli, Client,
  tryConnect, request, setup,
} from '../lib/index.mjs';
