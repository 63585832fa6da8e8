// A FIFO (or socket, or device) where a file should be never blocks the
// server: the type is checked before anything is opened for reading, and
// anything but a regular file is reported as unreadable. Every place that
// opens a file is covered: a --file and a --dir at start, a FIFO moved into
// a --dir, a FIFO made in place of a deleted --file, --token-file, --log,
// and the runtime file read when the server stops. A hang shows as a health
// check or a wait that times out (generous bounds, no timing thresholds).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  setup, request, runCli, pretty, readText, saveViaRename, waitFor, waitForFile, WAIT,
} from '../lib/index.mjs';

function mkfifo(p) {
  const r = spawnSync('mkfifo', [p], { encoding: 'utf8' });
  assert.equal(r.status, 0, `mkfifo failed: ${r.stderr}`);
}

async function assertHealthy(srv) {
  const r = await request(srv, '/_mirrorstate/healthz', { timeout: WAIT });
  assert.equal(r.status, 200, 'health check failed');
}

async function states(srv) {
  const r = await request(srv, '/_mirrorstate/api/states');
  assert.equal(r.status, 200);
  return r.json.states;
}

test('mkfifo f; mv f states/a.json: reported as unreadable, the server keeps answering, a real file recovers it', async (t) => {
  const h = setup(t);
  h.file('states/b.json', { b: 1 });
  const srv = await h.server({ dir: h.path('states') });
  const c = await h.client(srv);
  const first = await c.subscribe('a');
  assert.equal(first.exists, false);
  mkfifo(h.path('f'));
  fs.renameSync(h.path('f'), h.path('states/a.json'));
  const err = await c.next({ type: 'error', code: 'file_invalid', name: 'a' });
  assert.match(err.message, /FIFO/);
  await assertHealthy(srv);
  const a = (await states(srv)).find((s) => s.name === 'a');
  assert.equal(a.status, 'invalid');
  assert.match(a.error.message, /FIFO/);
  // A FIFO nobody subscribed to is reported too (seen in the list).
  mkfifo(h.path('g'));
  fs.renameSync(h.path('g'), h.path('states/c.json'));
  await waitFor(async () => (await states(srv)).find((s) => s.name === 'c' && s.status === 'invalid'),
    { message: 'c listed as invalid' });
  await assertHealthy(srv);
  // Replaced by a file: the subscriber gets it.
  fs.unlinkSync(h.path('states/a.json'));
  saveViaRename(h.path('states/a.json'), pretty({ a: 1 }));
  const snap = await c.next({ type: 'snapshot', name: 'a' });
  assert.deepEqual(snap.state, { a: 1 });
});

test('a FIFO made in place of a deleted --file: reported, never written over, recovered with no change lost', async (t) => {
  const h = setup(t);
  const file = h.file('state.json', { a: 1 });
  const srv = await h.server({ files: [file] });
  const c = await h.client(srv);
  await c.subscribe('state');
  fs.unlinkSync(file);
  await c.next({ type: 'error', code: 'file_removed' });
  mkfifo(file);
  // The change makes the server look at the file before writing it.
  const ref = c.patch('state', [{ op: 'replace', path: '/a', value: 2 }]);
  const err = await c.next({ type: 'error', code: 'file_invalid', name: 'state' });
  assert.match(err.message, /FIFO/);
  await c.next({ type: 'ack', ref });
  await assertHealthy(srv);
  assert.ok(fs.lstatSync(file).isFIFO(), 'the FIFO was written over');
  fs.unlinkSync(file);
  saveViaRename(file, pretty({ a: 1, agent: true }));
  await c.next({ type: 'error', code: 'file_ok' });
  await waitForFile(file, { a: 2, agent: true });
});

test('a FIFO as --file at start: configuration error (exit 2), no hang', async (t) => {
  const h = setup(t);
  mkfifo(h.path('state.json'));
  const r = await runCli(['serve', '--file', h.path('state.json'), '--port', '0'], { cwd: h.dir });
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /FIFO/);
});

test('a FIFO in a --dir at start: listed as unreadable, the server serves the rest', async (t) => {
  const h = setup(t);
  h.file('states/b.json', { b: 1 });
  mkfifo(h.path('states/a.json'));
  const srv = await h.server({ dir: h.path('states') });
  await assertHealthy(srv);
  const list = await states(srv);
  assert.equal(list.find((s) => s.name === 'b').status, 'ok');
  const a = list.find((s) => s.name === 'a');
  assert.ok(a, `the FIFO is not listed: ${JSON.stringify(list)}`);
  assert.equal(a.status, 'invalid');
  assert.match(a.error.message, /FIFO/);
});

for (const opt of ['--token-file', '--log']) {
  test(`a FIFO as ${opt}: configuration error (exit 2), no hang`, async (t) => {
    const h = setup(t);
    const file = h.file('state.json', { a: 1 });
    mkfifo(h.path('fifo'));
    const r = await runCli(['serve', '--file', file, '--port', '0', opt, h.path('fifo')], { cwd: h.dir });
    assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, /not a regular file/);
  });
}

test('the runtime file replaced by a FIFO while serving: the server still stops cleanly', async (t) => {
  const h = setup(t);
  const file = h.file('state.json', { a: 1 });
  const srv = await h.server({ files: [file] });
  const rt = h.path('.mirrorstate', 'server.json');
  assert.ok(readText(rt), 'no runtime file was written');
  fs.unlinkSync(rt);
  mkfifo(rt);
  await srv.stop(); // exit code 0 within the guard
  assert.ok(fs.lstatSync(rt).isFIFO(), 'the server removed a runtime file it did not write');
});
