// Looking names up under --dir leaves nothing behind: a name with no file,
// no init and no subscriber is not registered (the states list and hello
// stay as they were), a subscription without init still gets the
// exists:false snapshot and the file when it appears, and the number of
// states is bounded by --max-states.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  setup, request, runCli, pretty, saveViaRename, waitFor, waitForFile,
} from '../lib/index.mjs';

async function names(srv) {
  const r = await request(srv, '/_mirrorstate/api/states');
  assert.equal(r.status, 200);
  return r.json.states.map((s) => s.name).sort();
}

test('3,000 GETs of unknown names leave the states list and hello unchanged', async (t) => {
  const h = setup(t);
  h.file('states/a.json', { a: 1 });
  const srv = await h.server({ dir: h.path('states') });
  const before = await names(srv);
  const hello = (await h.client(srv)).hello;
  const N = 3000;
  for (let i = 0; i < N; i += 50) {
    await Promise.all(Array.from({ length: 50 }, async (_, j) => {
      const name = `probe-${i + j}-${Math.random().toString(36).slice(2)}`;
      const path = (i + j) % 3 === 0 ? `${name}%2Fhistory` : (i + j) % 3 === 1 ? `dir%2F${name}` : name;
      const r = await request(srv, `/_mirrorstate/api/states/${path}`);
      assert.equal(r.status, 404, `GET ${path}: ${r.status} ${r.body}`);
    }));
  }
  // The CLI and a subscribe-then-unsubscribe look names up the same way.
  const cli = await runCli(['get', 'cli-probe', '--url', srv.http], { cwd: h.dir });
  assert.equal(cli.code, 1, cli.stderr);
  const c = await h.client(srv);
  assert.equal((await c.subscribe('ws-probe')).exists, false);
  c.send({ type: 'unsubscribe', name: 'ws-probe' });
  await waitFor(async () => (await names(srv)).length === before.length, { message: 'the probe dropped' });
  assert.deepEqual(await names(srv), before);
  const after = (await h.client(srv)).hello;
  assert.deepEqual(after.states, hello.states);
});

test('subscribe without init to an absent name: exists false, the file when it appears; gone when the subscriber leaves', async (t) => {
  const h = setup(t);
  h.file('states/a.json', { a: 1 });
  const srv = await h.server({ dir: h.path('states') });
  const c1 = await h.client(srv);
  assert.equal((await c1.subscribe('later')).exists, false);
  assert.deepEqual(await names(srv), ['a', 'later']);
  saveViaRename(h.path('states/later.json'), pretty({ hi: 1 }));
  const snap = await c1.next({ type: 'snapshot', name: 'later' });
  assert.deepEqual(snap.state, { hi: 1 });
  // A name nobody creates lasts as long as its subscriber.
  const c2 = await h.client(srv);
  assert.equal((await c2.subscribe('ghost/deep')).exists, false);
  assert.deepEqual(await names(srv), ['a', 'ghost/deep', 'later']);
  c2.close();
  await waitFor(async () => !(await names(srv)).includes('ghost/deep'), { message: 'ghost dropped' });
  assert.deepEqual(await names(srv), ['a', 'later']);
  // A state that had a file stays after it is deleted (its value lives on).
  fs.unlinkSync(h.path('states/later.json'));
  await c1.next({ type: 'error', code: 'file_removed', name: 'later' });
  c1.close();
  const c3 = await h.client(srv);
  assert.ok(c3.hello.states.includes('later'));
  // A state made with init is written and kept.
  await c3.subscribe('made', { m: 1 });
  await waitForFile(h.path('states/made.json'), pretty({ m: 1 }));
  c3.close();
  const c4 = await h.client(srv);
  assert.ok(c4.hello.states.includes('made'));
});

test('--max-states bounds the states under --dir', async (t) => {
  const h = setup(t);
  for (const n of ['a', 'b']) h.file(`states/${n}.json`, { n });
  const srv = await h.server({ dir: h.path('states'), args: ['--max-states', '3'] });
  const c = await h.client(srv);
  await c.subscribe('c', { n: 'c' });
  c.send({ type: 'subscribe', name: 'd', init: { n: 'd' } });
  const err = await c.next({ type: 'error', name: 'd' });
  assert.equal(err.code, 'unknown_state');
  assert.match(err.message, /--max-states/);
  assert.deepEqual(await names(srv), ['a', 'b', 'c']);
  assert.match(srv.stderr, /--max-states/);
  // A file that appears beyond the bound is not mirrored either.
  saveViaRename(h.path('states/e.json'), pretty({ n: 'e' }));
  await waitForFile(h.path('states/c.json'), pretty({ n: 'c' }));
  assert.deepEqual(await names(srv), ['a', 'b', 'c']);
});

test('--max-states at start: the files beyond it are not mirrored, with a warning', async (t) => {
  const h = setup(t);
  for (const n of ['a', 'b', 'c', 'd', 'e']) h.file(`states/${n}.json`, { n });
  const srv = await h.server({ dir: h.path('states'), args: ['--max-states', '2'] });
  assert.equal((await names(srv)).length, 2);
  assert.match(srv.stderr, /--max-states/);
});
