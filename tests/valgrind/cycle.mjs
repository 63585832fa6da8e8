// A start/serve/stop cycle under valgrind: a client subscribes and patches,
// an agent edits the file (also once with invalid JSON), the server is
// stopped with SIGTERM. Then the same for `--host tailscale`, which watches
// the interfaces (netlink) and waits for tailscale0 if there is none yet.
// valgrind must report no errors and no leaks.
import fs from 'node:fs';
import path from 'node:path';
import { connect, pretty, removeDir, sleep, startServer, tempDir } from '../lib/index.mjs';

// valgrind runs the server some 20 times slower: generous guards.
const START = 60000;
const STEP = 30000;
const VALGRIND = ['valgrind', '--leak-check=full', '--show-leak-kinds=all',
  '--errors-for-leak-kinds=all', '--error-exitcode=99'];

const dir = tempDir('mirrorstate-vg-');
const file = path.join(dir, 'state.json');
fs.writeFileSync(file, pretty({ count: 0, items: [] }));

let srv;

// Stops srv with SIGTERM; throws unless valgrind was content.
async function stop(what) {
  const { code } = await srv.signal('SIGTERM', START);
  const summary = srv.stderr.split('\n').filter((l) => /ERROR SUMMARY|in use at exit|definitely|indirectly/.test(l));
  console.log(`${what}:\n${summary.join('\n')}`);
  if (code !== 0) {
    console.log(srv.stderr);
    throw new Error(`valgrind run (${what}) exited with ${code}`);
  }
}

async function main() {
  srv = await startServer({ files: [file], wrap: VALGRIND, timeout: START });
  const c = await connect(srv, { timeout: STEP });
  await c.subscribe('state', undefined, STEP);
  c.send({ type: 'patch', name: 'state', ref: 1, ops: [{ op: 'replace', path: '/count', value: 1 }] });
  await c.next({ type: 'ack' }, STEP);
  await sleep(300);
  fs.writeFileSync(file, '{"count": 2, "items": [}\n');
  await c.next({ code: 'file_invalid' }, STEP);
  fs.writeFileSync(file, '{"count": 3, "items": ["x"]}\n');
  await c.next({ type: 'patch', origin: 'file' }, STEP);
  c.sendRaw('not json');
  await c.next({ code: 'bad_message' }, STEP);
  await stop('serve cycle');
  c.close();

  srv = await startServer({ files: [file], host: 'tailscale', wrap: VALGRIND, timeout: START });
  const t = await connect(srv, { timeout: STEP });
  await t.subscribe('state', undefined, STEP);
  await stop('--host tailscale');
  t.close();
  console.log('2 passed, 0 failed');
}

main().catch(async (e) => {
  console.error(e.message);
  await srv?.kill();
  process.exitCode = 1;
}).finally(() => removeDir(dir));
