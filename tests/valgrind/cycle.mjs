// A start/serve/stop cycle under valgrind: a client subscribes and patches,
// an agent edits the file (also once with invalid JSON), the server is
// stopped with SIGTERM. valgrind must report no errors and no leaks.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const bin = path.resolve(process.env.MIRRORSTATE_BIN || 'build/mirrorstate');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorstate-vg-'));
const file = path.join(dir, 'state.json');
fs.writeFileSync(file, JSON.stringify({ count: 0, items: [] }, null, 2) + '\n');

const deadline = (ms, what) => new Promise((_, reject) =>
  setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const vg = spawn('valgrind', ['--leak-check=full', '--show-leak-kinds=all',
  '--errors-for-leak-kinds=all', '--error-exitcode=99', bin, 'serve',
  '--file', file, '--port', '0', '--host', '127.0.0.1'],
{ stdio: ['ignore', 'pipe', 'pipe'] });
let out = '', err = '';
vg.stdout.on('data', (d) => { out += d; });
vg.stderr.on('data', (d) => { err += d; });
const exited = new Promise((r) => vg.on('exit', (code) => r(code)));

async function main() {
  const port = await Promise.race([deadline(60000, 'server start'), (async () => {
    for (;;) {
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) return Number(m[1]);
      await sleep(50);
    }
  })()]);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/_mirrorstate/ws`, 'mirrorstate.v1');
  const got = [];
  ws.on('message', (d) => got.push(JSON.parse(d)));
  await Promise.race([deadline(30000, 'open'), new Promise((r) => ws.on('open', r))]);
  const waitFor = (pred, what) => Promise.race([deadline(30000, what), (async () => {
    for (;;) {
      const m = got.find(pred);
      if (m) return m;
      await sleep(20);
    }
  })()]);
  ws.send(JSON.stringify({ type: 'subscribe', name: 'state' }));
  await waitFor((m) => m.type === 'snapshot', 'snapshot');
  ws.send(JSON.stringify({ type: 'patch', name: 'state', ref: 1,
    ops: [{ op: 'replace', path: '/count', value: 1 }] }));
  await waitFor((m) => m.type === 'ack', 'ack');
  await sleep(300);
  fs.writeFileSync(file, '{"count": 2, "items": [}\n');
  await waitFor((m) => m.code === 'file_invalid', 'file_invalid');
  fs.writeFileSync(file, '{"count": 3, "items": ["x"]}\n');
  await waitFor((m) => m.type === 'patch' && m.origin === 'file', 'file patch');
  ws.send('not json');
  await waitFor((m) => m.code === 'bad_message', 'bad_message');
  vg.kill('SIGTERM');
  const code = await Promise.race([deadline(60000, 'exit'), exited]);
  ws.close();
  const summary = err.split('\n').filter((l) => /ERROR SUMMARY|in use at exit|definitely|indirectly/.test(l));
  console.log(summary.join('\n'));
  if (code !== 0) {
    console.log(err);
    throw new Error(`valgrind run exited with ${code}`);
  }
  console.log('1 passed, 0 failed');
}

main().catch((e) => {
  console.error(e.message);
  vg.kill('SIGKILL');
  process.exitCode = 1;
}).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
