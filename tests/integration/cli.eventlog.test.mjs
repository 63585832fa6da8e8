// The event log (--log FILE), as docs/eventlog.md describes it: one JSON
// line per change and per file status, rotation to FILE.1 at 16 MiB, and
// `tail -F` following it across a rotation.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { ISO_TIME, pretty, readText, request, setup, waitFor } from '../lib/index.mjs';

const CAP = 16 * 1024 * 1024;

/** Complete lines only: a reader may catch the last one mid-write. */
const complete = (text) => text.split('\n').slice(0, -1).filter(Boolean);
const logLines = (file) => complete(readText(file) || '').map((l) => JSON.parse(l));

function post(srv, name, body) {
  return request(srv, `/_mirrorstate/api/states/${name}`, { method: 'POST', body });
}

test('one line per change with time, name, version, origin and ops; file status lines with line and column', async (t) => {
  const h = setup(t);
  const file = h.file('todo.json', { items: [] });
  const log = h.path('events.log');
  const srv = await h.server({ files: [file], args: ['--log', log] });
  const page = await h.client(srv);
  await page.subscribe('todo');

  assert.equal((await post(srv, 'todo', { type: 'patch', ops: [{ op: 'add', path: '/items/-', value: 'milk' }] })).status, 200);
  await page.patchAcked('todo', [{ op: 'add', path: '/items/-', value: 'eggs' }]);
  fs.writeFileSync(file, pretty({ items: ['milk', 'eggs'], title: 'x' }));
  await page.next({ type: 'patch', origin: 'file' });
  fs.writeFileSync(file, '{\n  "items": [,\n');
  await page.next({ type: 'error', code: 'file_invalid' });
  fs.writeFileSync(file, pretty({ items: ['milk', 'eggs'], title: 'y' }));
  await page.next({ type: 'patch', origin: 'file', version: 5 });

  const lines = await waitFor(() => { const l = logLines(log); return l.length >= 6 && l; }, { message: '6 log lines' });
  for (const l of lines) assert.match(l.time, ISO_TIME);
  const strip = lines.map(({ time, file: f, message, ...rest }) => rest);
  assert.deepEqual(strip, [
    { type: 'change', name: 'todo', version: 2, origin: 'api', ops: [{ op: 'add', path: '/items/-', value: 'milk' }], desc: ['items[0] added: "milk"'] },
    { type: 'change', name: 'todo', version: 3, origin: page.origin, ops: [{ op: 'add', path: '/items/-', value: 'eggs' }], desc: ['items[1] added: "eggs"'] },
    { type: 'change', name: 'todo', version: 4, origin: 'file', ops: [{ op: 'add', path: '/title', value: 'x' }], desc: ['title added: "x"'] },
    { type: 'file', name: 'todo', version: 4, code: 'file_invalid', line: 2, column: 13 },
    // The fix is merged first, then the file is reported valid again.
    { type: 'change', name: 'todo', version: 5, origin: 'file', ops: [{ op: 'replace', path: '/title', value: 'y' }], desc: ['title: "x" \u2192 "y"'] },
    { type: 'file', name: 'todo', version: 5, code: 'file_ok' },
  ]);
  assert.equal(lines[3].file, file);
  assert.equal(typeof lines[3].message, 'string');
  assert.ok(lines[3].message.length > 0);
  // Field order as documented: time, type, name, version first.
  assert.deepEqual(Object.keys(lines[0]), ['time', 'type', 'name', 'version', 'origin', 'ops', 'desc']);
});

test('an unopenable --log is a configuration error (exit 2)', async (t) => {
  const h = setup(t);
  const file = h.file('todo.json', {});
  await assert.rejects(h.server({ files: [file], args: ['--log', h.path('no', 'such', 'dir', 'events.log')] }), /exited before serving: \{"code":2/);
});

test('rotation: past 16 MiB the log moves to FILE.1 (one generation), lines stay whole, tail -F follows', async (t) => {
  const h = setup(t);
  const file = h.file('big.json', { blob: '' });
  const log = h.path('events.log');
  const srv = await h.server({ files: [file], args: ['--log', log] });
  const tail = spawn('tail', ['-F', '-n', '+1', '-s', '0.1', log], { stdio: ['ignore', 'pipe', 'ignore'] });
  let followed = '';
  tail.stdout.setEncoding('utf8');
  tail.stdout.on('data', (d) => { followed += d; });
  t.after(() => tail.kill());

  // Each change line carries about 3 MiB: six fill a generation.
  const blob = (i) => String.fromCharCode(97 + i).repeat(3 * 1024 * 1024);
  const n = 13;
  for (let i = 0; i < n; i++) {
    const r = await post(srv, 'big', { type: 'set', state: { blob: blob(i) } });
    assert.equal(r.status, 200, r.body.slice(0, 200));
  }
  const last = n + 1;
  const current = await waitFor(() => { const l = logLines(log); return l.length && l[l.length - 1].version === last && l; }, { message: `version ${last} in the log` });
  const old = logLines(`${log}.1`);
  assert.ok(fs.statSync(`${log}.1`).size <= CAP, 'FILE.1 within the cap');
  assert.ok(fs.statSync(log).size <= CAP, 'FILE within the cap');
  assert.ok(!fs.existsSync(`${log}.2`), 'one old generation only');
  // Versions run on without a gap from FILE.1 into FILE; the first
  // generation (versions 2..) was replaced by the second rotation.
  const versions = [...old, ...current].map((l) => l.version);
  assert.ok(versions[0] > 2, `two rotations happened: ${versions}`);
  assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => versions[0] + i));
  for (const l of [...old, ...current]) assert.equal(l.ops[0].value.length, 3 * 1024 * 1024);

  // tail -F saw every line, across both rotations.
  await waitFor(() => complete(followed).filter((l) => l.startsWith('{')).length >= n, { timeout: 20000, message: 'tail -F to catch up' });
  const seen = complete(followed).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).version);
  assert.deepEqual(seen.slice(-n), Array.from({ length: n }, (_, i) => i + 2));
});
