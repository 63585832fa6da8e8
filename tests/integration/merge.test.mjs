// Concurrent edits: three-way merge of agent and client changes, stale
// bases, conflicts and malformed ops.
import assert from 'node:assert/strict';
import test from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { QUIET, pretty, readText, saveInPlace, setup, sleep, waitFor, waitForFile } from '../lib/index.mjs';

async function converge(clients, name, expected) {
  for (const c of clients) {
    await waitFor(() => isDeepStrictEqual(c.replica(name).state, expected), {
      message: `[${c.label}] state ${JSON.stringify(expected)}; it holds ${JSON.stringify(c.replica(name).state)}; received:\n${c.history()}`,
    });
  }
}

async function fresh(h, srv, name) {
  const c = await h.client(srv, { label: 'late' });
  return (await c.subscribe(name)).state;
}

test('merge: agent edits key A, then a client patches key B at once: both survive', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1, b: 1 });
  const srv = await h.server({ files: [f] });
  const x = await h.client(srv);
  const y = await h.client(srv);
  await x.subscribe('s');
  await y.subscribe('s');
  for (let round = 2; round <= 4; round++) {
    const before = { ...x.replica('s').state };
    saveInPlace(f, pretty({ ...before, a: round }));
    x.patch('s', [{ op: 'replace', path: '/b', value: round }], { base: x.replica('s').version });
    const expected = { a: round, b: round };
    await converge([x, y], 's', expected);
    await waitForFile(f, pretty(expected));
    assert.deepEqual(await fresh(h, srv, 's'), expected);
  }
  await x.expectNone({ type: 'error' }, 0);
});

test('merge: a client patches key B, then the agent saves a stale file changing key A: both survive', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1, b: 1 });
  // The server's write is still pending when the agent saves.
  const srv = await h.server({ files: [f], args: ['--write-delay', '1500'] });
  const x = await h.client(srv);
  const y = await h.client(srv);
  await x.subscribe('s');
  await y.subscribe('s');
  await x.patchAcked('s', [{ op: 'replace', path: '/b', value: 2 }]);
  saveInPlace(f, pretty({ a: 2, b: 1 })); // the agent never saw b = 2
  const expected = { a: 2, b: 2 };
  for (const c of [x, y]) {
    const p = await c.next({ type: 'patch', origin: 'file' });
    assert.deepEqual(p.ops, [{ op: 'replace', path: '/a', value: 2 }]);
  }
  await converge([x, y], 's', expected);
  await waitForFile(f, pretty(expected));
  assert.deepEqual(await fresh(h, srv, 's'), expected);
});

test('merge: a true conflict on the same value is won by the file', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 'base', b: 1 });
  const srv = await h.server({ files: [f], args: ['--write-delay', '1500'] });
  const x = await h.client(srv);
  await x.subscribe('s');
  await x.patchAcked('s', [{ op: 'replace', path: '/a', value: 'client' }, { op: 'replace', path: '/b', value: 2 }]);
  saveInPlace(f, pretty({ a: 'file', b: 1 }));
  const expected = { a: 'file', b: 2 };
  await converge([x], 's', expected);
  await waitForFile(f, pretty(expected));
});

test('a patch with a stale base on another key applies', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { x: 0, y: 0 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  await b.patchAcked('s', [{ op: 'replace', path: '/x', value: 1 }], { base: 1 });
  const ack = await a.patchAcked('s', [{ op: 'replace', path: '/y', value: 2 }], { base: 1 });
  assert.equal(ack.version, 3);
  await a.expectNone({ type: 'error' }, 0);
  const expected = { x: 1, y: 2 };
  await converge([a, b], 's', expected);
  await waitForFile(f, pretty(expected));
});

test('an op that does not apply: conflict with ref, then a snapshot, nothing applied', async (t) => {
  const h = setup(t);
  const start = { a: 1, b: 2, list: [1, 2] };
  const f = h.file('s.json', start);
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  const failing = {
    'remove of a missing path': [{ op: 'remove', path: '/missing' }],
    'test mismatch guards a replace': [{ op: 'test', path: '/a', value: 99 }, { op: 'replace', path: '/b', value: 5 }],
    'second op fails, first is not applied': [{ op: 'replace', path: '/a', value: 5 }, { op: 'replace', path: '/nope/deeper', value: 1 }],
    'array index out of range': [{ op: 'add', path: '/list/5', value: 0 }],
    'replace of a missing key': [{ op: 'replace', path: '/c', value: 1 }],
  };
  for (const [what, ops] of Object.entries(failing)) {
    const ref = { what };
    a.send({ type: 'patch', name: 's', base: 1, ops, ref });
    const e = await a.next((m) => m.type === 'error' || m.type === 'ack' || m.type === 'snapshot');
    assert.equal(e.type, 'error', `${what}: answered by ${JSON.stringify(e)}`);
    assert.equal(e.code, 'conflict', `${what}: ${JSON.stringify(e)}`);
    assert.deepEqual(e.ref, ref);
    assert.equal(e.name, 's');
    const snap = await a.next((m) => m.type === 'snapshot' || m.type === 'ack');
    assert.deepEqual(snap, { type: 'snapshot', name: 's', version: 1, state: start }, what);
  }
  await b.expectNone({ type: 'patch' });
  assert.equal(readText(f), pretty(start));
  const ack = await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 7 }]);
  assert.equal(ack.version, 2, 'a rejected patch spent a version');
});

test('a malformed op: invalid_patch with ref, nothing applied', async (t) => {
  const h = setup(t);
  const start = { a: 1, list: [1] };
  const f = h.file('s.json', start);
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  const malformed = {
    'unknown op': [{ op: 'frobnicate', path: '/a', value: 1 }],
    'pointer without leading slash': [{ op: 'replace', path: 'a', value: 2 }],
    'bad escape in pointer': [{ op: 'replace', path: '/a~2', value: 2 }],
    'missing value': [{ op: 'add', path: '/b' }],
    'missing from': [{ op: 'move', path: '/b' }],
    'missing path': [{ op: 'remove' }],
    'valid op then malformed op': [{ op: 'replace', path: '/a', value: 3 }, { op: 'add', path: '/c' }],
    'op not an object': [42],
  };
  let i = 0;
  for (const [what, ops] of Object.entries(malformed)) {
    const ref = ++i;
    a.send({ type: 'patch', name: 's', ops, ref });
    const e = await a.next((m) => (m.type === 'error' || m.type === 'ack') && m.ref === ref);
    assert.equal(e.type, 'error', `${what}: answered by ${JSON.stringify(e)}`);
    assert.equal(e.code, 'invalid_patch', `${what}: ${JSON.stringify(e)}`);
  }
  await b.expectNone({ type: 'patch' });
  assert.equal(readText(f), pretty(start));
  assert.equal((await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 9 }])).version, 2);
});

test('todos with ids: the agent adds a todo in the file while a client ticks another', async (t) => {
  const h = setup(t);
  const start = { todos: [{ id: 1, text: 'milk', done: false }, { id: 2, text: 'eggs', done: false }] };
  const f = h.file('s.json', start);
  const srv = await h.server({ files: [f] });
  const x = await h.client(srv);
  const y = await h.client(srv);
  await x.subscribe('s');
  await y.subscribe('s');
  const agent = structuredClone(start);
  agent.todos.push({ id: 3, text: 'bread', done: false });
  saveInPlace(f, pretty(agent));
  x.patch('s', [{ op: 'test', path: '/todos/0/id', value: 1 }, { op: 'replace', path: '/todos/0/done', value: true }], { base: 1 });
  const expected = structuredClone(agent);
  expected.todos[0].done = true;
  await converge([x, y], 's', expected);
  await waitForFile(f, pretty(expected));
  await x.expectNone({ type: 'error' }, 0);
});

test('todos with ids: a client ticks a todo, then the agent saves a stale file adding and removing todos', async (t) => {
  const h = setup(t);
  const start = { todos: [{ id: 1, text: 'milk', done: false }, { id: 2, text: 'eggs', done: false }, { id: 3, text: 'tea', done: false }] };
  const f = h.file('s.json', start);
  const srv = await h.server({ files: [f], args: ['--write-delay', '1500'] });
  const x = await h.client(srv);
  const y = await h.client(srv);
  await x.subscribe('s');
  await y.subscribe('s');
  await x.patchAcked('s', [{ op: 'test', path: '/todos/1/id', value: 2 }, { op: 'replace', path: '/todos/1/done', value: true }]);
  // The agent (who never saw the tick) removes "milk" and adds "bread".
  const agent = { todos: [start.todos[1], start.todos[2], { id: 4, text: 'bread', done: false }] };
  saveInPlace(f, pretty(agent));
  const expected = structuredClone(agent);
  expected.todos[0].done = true;
  await converge([x, y], 's', expected);
  await waitForFile(f, pretty(expected));
  assert.deepEqual(await fresh(h, srv, 's'), expected);
});

test('arrays of the same length merge element by element', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { grid: [0, 0, 0] });
  const srv = await h.server({ files: [f], args: ['--write-delay', '1500'] });
  const x = await h.client(srv);
  await x.subscribe('s');
  await x.patchAcked('s', [{ op: 'replace', path: '/grid/0', value: 1 }]);
  saveInPlace(f, pretty({ grid: [0, 0, 2] }));
  const expected = { grid: [1, 0, 2] };
  await converge([x], 's', expected);
  await waitForFile(f, pretty(expected));
  await sleep(QUIET);
  assert.equal(readText(f), pretty(expected));
});
