// Symbolic links never lead the server out of what it mirrors: a state's
// real path must stay under its root (the --dir, or a --file's directory
// and its own target at start), for reading, writing and creating, through
// intermediate directories too, unless --follow-symlinks says otherwise.
// The text of a file outside the root is never sent to anyone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  setup, request, runCli, pretty, readText, saveViaRename, sleep, waitFor, waitForFile, QUIET, WAIT,
} from '../lib/index.mjs';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const SECRET = { token: 'S3CRET-OUTSIDE' };

/** states/ (the --dir) beside outside/, which holds a key and a JSON secret. */
function layout(h) {
  h.file('states/a.json', { a: 1 });
  h.file('outside/secret.json', SECRET);
  fs.writeFileSync(h.path('outside/id_rsa'), KEY);
  return h.path('states');
}

async function names(srv) {
  const r = await request(srv, '/_mirrorstate/api/states');
  assert.equal(r.status, 200);
  return r.json.states.map((s) => s.name).sort();
}

function assertNothingLeaked(where, text) {
  assert.ok(!/PRIVATE KEY|b3BlbnNzaC|S3CRET/.test(text), `${where} quotes a file outside the root: ${text}`);
}

test('a directory symlink inside --dir does not make the files it leads to states', async (t) => {
  const h = setup(t);
  const dir = layout(h);
  fs.symlinkSync('../outside', h.path('states/linkdir'));
  const srv = await h.server({ dir });
  assert.deepEqual(await names(srv), ['a']);
  const get = await request(srv, '/_mirrorstate/api/states/linkdir%2Fsecret');
  assert.equal(get.status, 404);
  assertNothingLeaked('GET', get.body);
  const c = await h.client(srv);
  c.send({ type: 'subscribe', name: 'linkdir/secret' });
  const err = await c.next({ type: 'error', name: 'linkdir/secret' });
  assert.equal(err.code, 'unknown_state');
  assert.match(err.message, /outside/);
  assertNothingLeaked('the WebSocket', JSON.stringify(c.log));
  assert.match(srv.stderr, /linkdir.*not followed/);
});

test('nothing is created through a directory symlink: subscribe with init, set, POST, nested parents', async (t) => {
  const h = setup(t);
  const dir = layout(h);
  fs.symlinkSync('../outside', h.path('states/linkdir'));
  const srv = await h.server({ dir });
  const c = await h.client(srv);
  c.send({ type: 'subscribe', name: 'linkdir/new', init: { x: 1 } });
  assert.equal((await c.next({ type: 'error', name: 'linkdir/new' })).code, 'unknown_state');
  c.send({ type: 'set', name: 'linkdir/new2', state: { x: 2 }, ref: 'r2' });
  assert.equal((await c.next({ type: 'error', ref: 'r2' })).code, 'unknown_state');
  c.send({ type: 'subscribe', name: 'linkdir/sub/deep', init: { x: 3 } });
  assert.equal((await c.next({ type: 'error', name: 'linkdir/sub/deep' })).code, 'unknown_state');
  const post = await request(srv, '/_mirrorstate/api/states/linkdir%2Fnew3', {
    method: 'POST', body: { type: 'set', state: { x: 4 } },
  });
  assert.equal(post.status, 404);
  // A CLI set goes the same way.
  const cli = await runCli(['set', 'linkdir/new4', '', '{"x":5}', '--url', srv.http], { cwd: h.dir });
  assert.notEqual(cli.code, 0);
  await sleep(QUIET);
  assert.deepEqual(fs.readdirSync(h.path('outside')).sort(), ['id_rsa', 'secret.json']);
  assert.deepEqual(await names(srv), ['a']);
  // A real directory of the same shape works.
  fs.mkdirSync(h.path('states/realdir'));
  await c.subscribe('realdir/sub/new', { ok: true });
  await waitForFile(h.path('states/realdir/sub/new.json'), pretty({ ok: true }));
});

test('a directory replaced by a symlink after its state exists: the write does not follow it out', async (t) => {
  const h = setup(t);
  const dir = layout(h);
  h.file('states/sub/x.json', { x: 1 });
  const srv = await h.server({ dir, args: ['--write-delay', '200'] });
  const c = await h.client(srv);
  await c.subscribe('sub/x');
  fs.rmSync(h.path('states/sub'), { recursive: true });
  await c.next({ type: 'error', code: 'file_removed', name: 'sub/x' });
  fs.symlinkSync('../outside', h.path('states/sub'));
  await c.patchAcked('sub/x', [{ op: 'replace', path: '/x', value: 2 }]);
  const err = await c.next({ type: 'error', code: 'write_failed', name: 'sub/x' });
  assert.match(err.message, /outside/);
  assert.equal(readText(h.path('outside/x.json')), null, 'the write followed the link out');
});

test('a file symlink leading out of --dir is not a state, and its text is never sent', async (t) => {
  const h = setup(t);
  const dir = layout(h);
  fs.symlinkSync('../outside/id_rsa', h.path('states/key.json'));
  const srv = await h.server({ dir });
  assert.deepEqual(await names(srv), ['a']);
  const panel = await h.client(srv, { label: 'panel' });
  panel.send({ type: 'identify', role: 'panel' });
  await panel.next({ type: 'states' });
  panel.send({ type: 'subscribe', name: 'key' });
  assert.equal((await panel.next({ type: 'error', name: 'key' })).code, 'unknown_state');
  const get = await request(srv, '/_mirrorstate/api/states/key');
  assert.equal(get.status, 404);
  const list = await request(srv, '/_mirrorstate/api/states');
  assertNothingLeaked('the states list', list.body);
  assertNothingLeaked('GET', get.body);
  assertNothingLeaked('the panel', JSON.stringify(panel.log));
  assertNothingLeaked('stderr', srv.stderr);
});

test('a state file replaced by a symlink leading out while serving: reported, not read, not written through', async (t) => {
  const h = setup(t);
  const dir = layout(h);
  const srv = await h.server({ dir });
  const c = await h.client(srv);
  await c.subscribe('a');
  fs.symlinkSync('../outside/id_rsa', h.path('states/.tmp-link'));
  fs.renameSync(h.path('states/.tmp-link'), h.path('states/a.json'));
  const err = await c.next({ type: 'error', code: 'file_invalid', name: 'a' });
  assert.match(err.message, /symlink/);
  assert.ok(!err.text, `the line was quoted: ${JSON.stringify(err.text)}`);
  await c.patchAcked('a', [{ op: 'replace', path: '/a', value: 2 }]);
  await sleep(QUIET);
  assert.equal(readText(h.path('outside/id_rsa')), KEY, 'the key was written');
  assertNothingLeaked('the WebSocket', JSON.stringify(c.log));
  assertNothingLeaked('the states list', (await request(srv, '/_mirrorstate/api/states')).body);
  assertNothingLeaked('stderr', srv.stderr);
  // The link replaced by a file again: in sync, the change kept.
  fs.unlinkSync(h.path('states/a.json'));
  saveViaRename(h.path('states/a.json'), pretty({ a: 1, agent: true }));
  await c.next({ type: 'error', code: 'file_ok', name: 'a' });
  await waitForFile(h.path('states/a.json'), { a: 2, agent: true });
});

test('a --file replaced by a symlink to a JSON file elsewhere: its content reaches nobody', async (t) => {
  const h = setup(t);
  layout(h);
  const file = h.file('project/state.json', { mine: 1 });
  const srv = await h.server({ files: [file] });
  const c = await h.client(srv);
  await c.subscribe('state');
  fs.symlinkSync('../outside/secret.json', h.path('project/.tmp-link'));
  fs.renameSync(h.path('project/.tmp-link'), file);
  const err = await c.next({ type: 'error', code: 'file_invalid', name: 'state' });
  assert.match(err.message, /symlink/);
  assert.deepEqual(c.replica('state').state, { mine: 1 });
  const get = await request(srv, '/_mirrorstate/api/states/state');
  assert.deepEqual(get.json, { mine: 1 });
  assertNothingLeaked('the WebSocket', JSON.stringify(c.log));
});

test('a --file that is a symlink at start may live elsewhere: its own target is read and written', async (t) => {
  const h = setup(t);
  const target = h.file('shared/real.json', { a: 1 });
  fs.mkdirSync(h.path('project'));
  const link = h.path('project/state.json');
  fs.symlinkSync('../shared/real.json', link);
  const srv = await h.server({ files: [link] });
  const c = await h.client(srv);
  assert.deepEqual((await c.subscribe('state')).state, { a: 1 });
  await c.patchAcked('state', [{ op: 'replace', path: '/a', value: 2 }]);
  await waitForFile(target, pretty({ a: 2 }));
  assert.ok(fs.lstatSync(link).isSymbolicLink());
});

test('a --file that is a dangling symlink at start into another directory: the first write creates its target', async (t) => {
  const h = setup(t);
  fs.mkdirSync(h.path('shared'));
  fs.mkdirSync(h.path('project'));
  const link = h.path('project/state.json');
  fs.symlinkSync('../shared/real.json', link);
  const srv = await h.server({ files: [link] });
  const c = await h.client(srv);
  await c.subscribe('state', { made: true });
  await waitForFile(h.path('shared/real.json'), pretty({ made: true }));
  assert.ok(fs.lstatSync(link).isSymbolicLink());
});

test('a symlink loop under --dir is walked once: each file is one state, the server answers', async (t) => {
  const h = setup(t);
  h.file('states/a.json', { a: 1 });
  h.file('states/sub/b.json', { b: 1 });
  fs.symlinkSync('.', h.path('states/loop'));
  fs.symlinkSync('..', h.path('states/sub/up'));
  const srv = await h.server({ dir: h.path('states') });
  const r = await request(srv, '/_mirrorstate/healthz', { timeout: WAIT });
  assert.equal(r.status, 200);
  assert.deepEqual(await names(srv), ['a', 'sub/b']);
});

test('NAME.json.unsaved is never written through a symlink leading out', async (t) => {
  const h = setup(t);
  layout(h);
  const file = h.file('project/state.json', { a: 1 });
  fs.writeFileSync(h.path('outside/victim.txt'), 'VICTIM\n');
  fs.symlinkSync('../outside/victim.txt', h.path('project/state.json.unsaved'));
  const srv = await h.server({ files: [file] });
  const c = await h.client(srv);
  await c.subscribe('state');
  fs.writeFileSync(file, '{"a": ');
  await c.next({ type: 'error', code: 'file_invalid' });
  await c.patchAcked('state', [{ op: 'replace', path: '/a', value: 2 }]);
  await srv.stop();
  assert.equal(readText(h.path('outside/victim.txt')), 'VICTIM\n', 'written through the link');
  const unsaved = h.path('project/state.json.unsaved');
  assert.ok(fs.lstatSync(unsaved).isFile(), 'the changes are not in a file of their own');
  assert.deepEqual(JSON.parse(readText(unsaved)), { a: 2 });
});

test('a state directory swapped for a symlink out before the server stops: nothing outside is written or removed', async (t) => {
  const h = setup(t);
  const dir = layout(h);
  h.file('states/sub/x.json', { x: 1 });
  fs.writeFileSync(h.path('outside/x.json.unsaved'), 'KEEP\n');
  const srv = await h.server({ dir });
  const c = await h.client(srv);
  await c.subscribe('sub/x');
  await c.patchAcked('sub/x', [{ op: 'replace', path: '/x', value: 2 }]);
  await waitForFile(h.path('states/sub/x.json'), pretty({ x: 2 }));
  fs.renameSync(h.path('states/sub'), h.path('sub-old'));
  fs.symlinkSync('../outside', h.path('states/sub'));
  await c.patchAcked('sub/x', [{ op: 'replace', path: '/x', value: 3 }]);
  await c.next({ type: 'error', code: 'write_failed', name: 'sub/x' });
  await srv.stop();
  assert.equal(readText(h.path('outside/x.json.unsaved')), 'KEEP\n');
  assert.equal(readText(h.path('outside/x.json')), null);
  assert.match(srv.stderr, /could not be kept/);
});

test('--follow-symlinks follows links out, and still never quotes a file outside the root', async (t) => {
  const h = setup(t);
  const dir = layout(h);
  fs.symlinkSync('../outside', h.path('states/linkdir'));
  fs.symlinkSync('../outside/id_rsa', h.path('states/key.json'));
  const srv = await h.server({ dir, args: ['--follow-symlinks'] });
  await waitFor(async () => (await names(srv)).length === 3, { message: 'three states' });
  assert.deepEqual(await names(srv), ['a', 'key', 'linkdir/secret']);
  const get = await request(srv, '/_mirrorstate/api/states/linkdir%2Fsecret');
  assert.deepEqual(get.json, SECRET);
  const c = await h.client(srv);
  await c.subscribe('key');
  const err = await c.next({ type: 'error', code: 'file_invalid', name: 'key' });
  assert.ok(!err.text, `the line was quoted: ${JSON.stringify(err.text)}`);
  const list = await request(srv, '/_mirrorstate/api/states');
  assert.ok(!/PRIVATE KEY|b3BlbnNzaC/.test(list.body + JSON.stringify(c.log) + srv.stderr), 'the key was quoted');
  // Creating through the link is allowed when asked for.
  await c.subscribe('linkdir/new', { x: 1 });
  await waitForFile(h.path('outside/new.json'), pretty({ x: 1 }));
});
