// The agent's loop on the wire (docs/protocol.md, "applied" to "errors"):
// sync reads the file at once and waits for the app pages' applied
// versions; undo takes back earlier versions and keeps the later ones, or
// refuses with the conflicts; reset (and revert) say what they discarded;
// page errors are kept, relayed, filtered and logged; tools receive each
// change described.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { pretty, readText, request, setup, waitFor, waitForFile } from '../lib/index.mjs';

const TODO = { title: 'Groceries', items: [{ id: 1, text: 'milk', done: false }, { id: 2, text: 'eggs', done: false }] };

async function todoServer(t, args = []) {
  const h = setup(t);
  const file = h.file('todo.json', TODO);
  const srv = await h.server({ files: [file], args });
  return { h, file, srv };
}

const post = (srv, body) => request(srv, '/_mirrorstate/api/states/todo', { method: 'POST', body });

// ---------------------------------------------------------------- sync

test('sync: the file read at once: applied (also when the watcher took the save first), unchanged, invalid with no settle wait, a fix back to the value unchanged, missing', async (t) => {
  // A settle window of a minute: a sync that waited for it would hang.
  const { h, file, srv } = await todoServer(t, ['--settle', '60000']);
  const tool = await h.client(srv, { identify: { role: 'cli' } });

  let a = await tool.ask({ type: 'sync', name: 'todo' });
  assert.deepEqual({ ...a, ref: 'R' }, { type: 'synced', name: 'todo', ref: 'R', status: 'unchanged', version: 1 });

  // A save, and a sync right after: whichever read takes it in, it is applied.
  fs.writeFileSync(file, pretty({ ...TODO, title: 'Weekend' }));
  a = await tool.ask({ type: 'sync', name: 'todo' });
  assert.deepEqual([a.status, a.version], ['applied', 2]);
  a = await tool.ask({ type: 'sync', name: 'todo' });
  assert.deepEqual([a.status, a.version], ['applied', 2], 'asked again: that save is still the one taken in');

  // The same value in other bytes: nothing to take in.
  fs.writeFileSync(file, JSON.stringify({ ...TODO, title: 'Weekend' }));
  a = await tool.ask({ type: 'sync', name: 'todo' });
  assert.deepEqual([a.status, a.version], ['unchanged', 2]);

  // Invalid: answered at once, with where and the line.
  fs.writeFileSync(file, '{\n  "title": "Weekend"\n  "items": []\n}\n');
  a = await tool.ask({ type: 'sync', name: 'todo', pages: true, timeout: 600000 });
  assert.deepEqual({ ...a, ref: 'R', message: 'M' }, {
    type: 'synced', name: 'todo', ref: 'R', status: 'invalid', version: 2, file: fs.realpathSync(file), line: 3, column: 3, message: 'M', text: '  "items": []',
  });
  assert.equal(typeof a.message, 'string');

  // Fixed back to the state's value: nothing to take in, and valid again.
  fs.writeFileSync(file, pretty({ ...TODO, title: 'Weekend' }));
  a = await tool.ask({ type: 'sync', name: 'todo' });
  assert.deepEqual([a.status, a.version], ['unchanged', 2]);
  const st = (await request(srv, '/_mirrorstate/api/states')).json.states[0];
  assert.equal(st.status, 'ok');

  // A change from elsewhere after a save: the file holds nothing new.
  fs.writeFileSync(file, pretty({ ...TODO, title: 'Sunday' }));
  assert.equal((await tool.ask({ type: 'sync', name: 'todo' })).status, 'applied');
  assert.equal((await post(srv, { type: 'patch', ops: [{ op: 'replace', path: '/title', value: 'Monday' }] })).json.version, 4);
  a = await tool.ask({ type: 'sync', name: 'todo' });
  assert.deepEqual([a.status, a.version], ['unchanged', 4]);

  // Over HTTP too (without pages).
  fs.writeFileSync(file, pretty({ ...TODO, title: 'Tuesday' }));
  const r = await post(srv, { type: 'sync' });
  assert.equal(r.status, 200);
  assert.deepEqual([r.json.type, r.json.status, r.json.version], ['synced', 'applied', 5]);
  assert.equal((await post(srv, { type: 'sync', pages: true })).status, 400);

  // No file: missing.
  fs.unlinkSync(file);
  a = await tool.ask({ type: 'sync', name: 'todo' });
  assert.deepEqual([a.status, a.version, a.file], ['missing', 5, fs.realpathSync(h.dir) + '/todo.json']);
  a = await tool.ask({ type: 'sync', name: 'nope' });
  assert.deepEqual([a.type, a.code], ['error', 'unknown_state']);
  a = await tool.ask({ type: 'sync' });
  assert.deepEqual([a.type, a.code], ['error', 'bad_message']);
});

test('sync with pages: waits until every app page subscribed applied the version; counts what confirmed; includes their errors; a page that leaves is not waited for; panels and tools do not count', async (t) => {
  const { h, file, srv } = await todoServer(t);
  const p1 = await h.client(srv, { identify: { role: 'app', page: 'http://127.0.0.1/one' } });
  const p2 = await h.client(srv, { identify: { role: 'app', page: 'http://127.0.0.1/two' } });
  const panel = await h.client(srv, { identify: { role: 'panel' } });
  const tool = await h.client(srv, { identify: { role: 'cli' } });
  for (const c of [p1, p2, panel, tool]) await c.subscribe('todo');

  fs.writeFileSync(file, pretty({ ...TODO, title: 'Weekend' }));
  const answer = tool.ask({ type: 'sync', name: 'todo', pages: true, timeout: 600000 });
  await p1.next({ type: 'patch', version: 2 });
  await p2.next({ type: 'patch', version: 2 });
  p1.send({ type: 'applied', name: 'todo', version: 2 });
  // The second page throws on the new value, then reports it applied.
  p2.send({ type: 'page_error', kind: 'error', message: 'TypeError: x is undefined', stack: 'at render', url: 'http://127.0.0.1/two?token=secret#x', states: { todo: 2 } });
  await tool.expectNone({ type: 'synced' });
  p2.send({ type: 'applied', name: 'todo', version: 2 });
  const a = await answer;
  assert.deepEqual([a.status, a.version, a.pages.confirmed, a.pages.total], ['applied', 2, 2, 2]);
  assert.equal(a.pages.errors.length, 1);
  assert.deepEqual({ ...a.pages.errors[0], time: 'T' }, { kind: 'error', message: 'TypeError: x is undefined', stack: 'at render', url: 'http://127.0.0.1/two', states: { todo: 2 }, client: p2.id, time: 'T' });

  // Already applied: answered at once.
  const again = await tool.ask({ type: 'sync', name: 'todo', pages: true, timeout: 600000 });
  assert.deepEqual([again.status, again.pages.confirmed, again.pages.total], ['applied', 2, 2]);

  // A page that closes is no longer waited for, nor counted.
  fs.writeFileSync(file, pretty({ ...TODO, title: 'Sunday' }));
  const waiting = tool.ask({ type: 'sync', name: 'todo', pages: true, timeout: 600000 });
  await p1.next({ type: 'patch', version: 3 });
  p1.send({ type: 'applied', name: 'todo', version: 3 });
  await tool.expectNone({ type: 'synced' });
  p2.close();
  const b = await waiting;
  assert.deepEqual([b.version, b.pages.confirmed, b.pages.total], [3, 1, 1]);

  // The wait ends at the timeout with what confirmed by then.
  const p3 = await h.client(srv);
  await p3.subscribe('todo');
  const c = await tool.ask({ type: 'sync', name: 'todo', pages: true, timeout: 200 });
  assert.deepEqual([c.status, c.version, c.pages.confirmed, c.pages.total], ['applied', 3, 1, 2]);
  // Without pages: no pages member.
  const d = await tool.ask({ type: 'sync', name: 'todo' });
  assert.equal(d.pages, undefined);
});

// ---------------------------------------------------------------- undo, reset

test('undo: takes back the versions named and keeps every later change; broadcast to every subscriber, the sender too; acked with what was undone', async (t) => {
  const { h, file, srv } = await todoServer(t);
  const page = await h.client(srv);
  const panel = await h.client(srv, { identify: { role: 'panel' } });
  await page.subscribe('todo');
  await panel.subscribe('todo');
  // v2: the agent appends bread; v3: the user ticks milk; v4: the agent renames.
  await panel.patchAcked('todo', [{ op: 'add', path: '/items/-', value: { id: 3, text: 'bread', done: false } }]);
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/0/done', value: true }]);
  await panel.patchAcked('todo', [{ op: 'replace', path: '/title', value: 'Weekend' }]);

  const a = await panel.ask({ type: 'undo', name: 'todo', versions: [4, 2] });
  assert.deepEqual({ ...a, ref: 'R' }, { type: 'ack', name: 'todo', ref: 'R', version: 5, undone: [2, 4] });
  const want = { title: 'Groceries', items: [{ id: 1, text: 'milk', done: true }, { id: 2, text: 'eggs', done: false }] };
  for (const c of [page, panel]) {
    const p = await c.next({ type: 'patch', version: 5 });
    assert.equal(p.origin, 'panel');
  }
  assert.deepEqual(page.replica('todo').state, want);
  await waitForFile(file, pretty(want));

  // Undoing what changes nothing any more: acked, no version.
  const none = await panel.ask({ type: 'undo', name: 'todo', versions: [4] });
  assert.equal(none.type, 'error', 'v4 was undone by v5, which changed /title again');
  assert.deepEqual(none.conflicts, [{ version: 4, path: '/title', by: 5 }]);

  // Over HTTP, origin api.
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/1/done', value: true }]);
  const r = await post(srv, { type: 'undo', versions: [6] });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual([r.json.version, r.json.undone], [7, [6]]);
  assert.equal((await page.next({ type: 'patch', version: 7 })).origin, 'api');
});

test('undo: refused as a whole when a later change touched the same value; conflicts name the version, the path and the later version; unknown and bad versions', async (t) => {
  const { h, srv } = await todoServer(t);
  const page = await h.client(srv);
  await page.subscribe('todo');
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/0/done', value: true }]); // v2
  await page.patchAcked('todo', [{ op: 'replace', path: '/title', value: 'A' }]); // v3
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/0', value: { id: 1, text: 'oat milk', done: false } }]); // v4: an ancestor of v2's path

  const tool = await h.client(srv, { identify: { role: 'cli' } });
  const a = await tool.ask({ type: 'undo', name: 'todo', versions: [2, 3] });
  assert.deepEqual({ ...a, ref: 'R', message: 'M' }, { type: 'error', code: 'conflict', message: 'M', name: 'todo', ref: 'R', conflicts: [{ version: 2, path: '/items/0/done', by: 4 }] });
  assert.match(a.message, /version 2 .*\/items\/0\/done.*version 4.*nothing was undone/);
  await page.expectNone({ type: 'patch' });
  const snap = await tool.subscribe('todo');
  assert.equal(snap.version, 4, 'nothing applied');

  for (const [versions, code] of [[[1], 'unknown_version'], [[99], 'unknown_version'], [[], 'bad_message'], [['3'], 'bad_message'], [[0], 'bad_message']]) {
    const e = await tool.ask({ type: 'undo', name: 'todo', versions });
    assert.deepEqual([e.type, e.code], ['error', code], JSON.stringify(versions));
  }
  const one = await tool.ask({ type: 'undo', name: 'todo', versions: [1] });
  assert.match(one.message, /version 1 is the first value of "todo" in this run/);
});

test('reset: the whole state back to a version, as a new change, listing every version it discarded; revert is the same jump', async (t) => {
  const { h, file, srv } = await todoServer(t);
  const page = await h.client(srv);
  await page.subscribe('todo');
  for (const title of ['a', 'b', 'c']) await page.patchAcked('todo', [{ op: 'replace', path: '/title', value: title }]);
  const tool = await h.client(srv, { identify: { role: 'cli' } });
  let a = await tool.ask({ type: 'reset', name: 'todo', version: 2 });
  assert.deepEqual({ ...a, ref: 'R' }, { type: 'ack', name: 'todo', ref: 'R', version: 5, discarded: [3, 4] });
  await waitForFile(file, pretty({ ...TODO, title: 'a' }));
  assert.equal((await page.next({ type: 'patch', version: 5 })).origin, 'api');
  // To the state it already has: nothing discarded, no version.
  a = await tool.ask({ type: 'reset', name: 'todo', version: 5 });
  assert.deepEqual([a.version, a.discarded], [5, []]);
  a = await tool.ask({ type: 'revert', name: 'todo', version: 1 });
  assert.deepEqual([a.type, a.version, a.discarded], ['ack', 6, [2, 3, 4, 5]]);
  a = await tool.ask({ type: 'reset', name: 'todo', version: 99 });
  assert.deepEqual([a.type, a.code], ['error', 'unknown_version']);
  const r = await post(srv, { type: 'reset', version: 4 });
  assert.deepEqual([r.status, r.json.discarded], [200, [5, 6]]);
});

// ---------------------------------------------------------------- page errors

test('page errors: kept with client and time, relayed to panels and to errors watchers, filtered by name and since, logged; malformed ones refused; a flood is cut', async (t) => {
  const h = setup(t);
  const file = h.file('todo.json', TODO);
  h.file('other.json', { n: 1 });
  const log = h.path('events.log');
  const srv = await h.server({ files: [file, h.path('other.json')], args: ['--log', log] });
  const panel = await h.client(srv, { identify: { role: 'panel' } });
  const watcher = await h.client(srv, { identify: { role: 'cli' } });
  const page = await h.client(srv, { identify: { role: 'app', page: 'http://127.0.0.1:3000/app' } });
  await page.subscribe('todo');

  let a = await watcher.ask({ type: 'errors', name: 'todo', since: 2, watch: true });
  assert.deepEqual({ ...a, ref: 'R' }, { type: 'errors', ref: 'R', errors: [] });

  page.send({ type: 'page_error', kind: 'error', message: 'old', states: { todo: 1 } });
  page.send({ type: 'page_error', kind: 'console', message: 'new', stack: 'at x', states: { todo: 2, other: 1 } });
  page.send({ type: 'page_error', kind: 'unhandledrejection', message: 'elsewhere', states: { other: 1 } });
  const relayed = await panel.next({ type: 'page_error', message: 'old' });
  assert.deepEqual({ ...relayed, time: 'T' }, { type: 'page_error', kind: 'error', message: 'old', url: 'http://127.0.0.1:3000/app', states: { todo: 1 }, client: page.id, time: 'T' });
  await panel.next({ type: 'page_error', message: 'elsewhere' });
  // The watcher asked for todo since version 2: only "new".
  const w = await watcher.next({ type: 'page_error' });
  assert.equal(w.message, 'new');
  await watcher.expectNone({ type: 'page_error' });

  a = await watcher.ask({ type: 'errors' });
  assert.deepEqual(a.errors.map((e) => e.message), ['old', 'new', 'elsewhere']);
  a = await watcher.ask({ type: 'errors', name: 'other' });
  assert.deepEqual(a.errors.map((e) => e.message), ['new', 'elsewhere']);
  a = await watcher.ask({ type: 'errors', since: 1 });
  assert.deepEqual([a.type, a.code], ['error', 'bad_message'], 'since without a name');
  a = await watcher.ask({ type: 'errors', name: 'nope' });
  assert.deepEqual([a.type, a.code], ['error', 'unknown_state']);

  const lines = await waitFor(() => {
    const l = (readText(log) || '').split('\n').filter(Boolean).map((x) => JSON.parse(x)).filter((x) => x.type === 'page_error');
    return l.length === 3 && l;
  }, { message: 'three page_error lines' });
  assert.deepEqual({ ...lines[1], time: 'T' }, { time: 'T', type: 'page_error', kind: 'console', message: 'new', stack: 'at x', url: 'http://127.0.0.1:3000/app', states: { todo: 2, other: 1 }, client: page.id });

  // What is kept is bounded: a version under a name no state can have
  // (100 KB long, or with "..") is dropped, the rest kept.
  page.send({ type: 'page_error', message: 'long names', states: { ['x'.repeat(100000)]: 1, '../up': 1, todo: 3 } });
  const bounded = await panel.next({ type: 'page_error', message: 'long names' });
  assert.deepEqual(bounded.states, { todo: 3 });

  for (const bad of [{ type: 'page_error' }, { type: 'page_error', message: 5 }, { type: 'page_error', message: 'x', states: [1] }, { type: 'applied', name: 'todo' }]) {
    const e = await page.ask(bad);
    assert.deepEqual([e.type, e.code], ['error', 'bad_message'], JSON.stringify(bad));
  }
  // A flood from one page: the first 20 of its 10-second window are kept.
  const flood = await h.client(srv);
  for (let i = 0; i < 30; i++) flood.send({ type: 'page_error', message: `flood ${i}`, states: { todo: 1 } });
  await flood.ask({ type: 'states' }); // everything before it was handled
  a = await watcher.ask({ type: 'errors' });
  assert.deepEqual(a.errors.filter((e) => e.client === flood.id).map((e) => e.message), Array.from({ length: 20 }, (_, i) => `flood ${i}`));
});

// ---------------------------------------------------------------- descriptions

test('a change reaches tools with "desc", items named by id; apps get the plain patch; history entries carry it', async (t) => {
  const { h, srv } = await todoServer(t);
  const app = await h.client(srv);
  const tool = await h.client(srv, { identify: { role: 'cli' } });
  await app.subscribe('todo');
  await tool.subscribe('todo');
  const other = await h.client(srv);
  await other.subscribe('todo');
  await other.patchAcked('todo', [{ op: 'replace', path: '/items/1/done', value: true }]);
  const p = await tool.next({ type: 'patch', version: 2 });
  assert.deepEqual(p.desc, ['items[id=2].done: false \u2192 true']);
  const q = await app.next({ type: 'patch', version: 2 });
  assert.equal(q.desc, undefined);
  const hist = await tool.ask({ type: 'history', name: 'todo' });
  assert.deepEqual(hist.entries[0].desc, ['items[id=2].done: false \u2192 true']);
});
