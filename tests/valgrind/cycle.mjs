// A start/serve/stop cycle under valgrind: a client subscribes and patches,
// an agent edits the file (also once with invalid JSON), the server is
// stopped with SIGTERM. valgrind must report no errors and no leaks.
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
  const { code } = await srv.signal('SIGTERM', START);
  c.close();
  const summary = srv.stderr.split('\n').filter((l) => /ERROR SUMMARY|in use at exit|definitely|indirectly/.test(l));
  console.log(summary.join('\n'));
  if (code !== 0) {
    console.log(srv.stderr);
    throw new Error(`valgrind run exited with ${code}`);
  }
  console.log('1 passed, 0 failed');
}

main().catch(async (e) => {
  console.error(e.message);
  await srv?.kill();
  process.exitCode = 1;
}).finally(() => removeDir(dir));
