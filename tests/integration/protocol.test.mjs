// Wire protocol v1: hello, subscribe, patch/ack, set, bad messages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { QUIET, projectVersion, pretty, readText, setup, sleep, waitForFile } from '../lib/index.mjs';

test('hello on connect: protocol 1, server, session, client id, states', async (t) => {
  const h = setup(t);
  const todo = h.file('todo.json', { items: [] });
  const settings = h.path('settings.json'); // a --file that does not exist yet
  const srv = await h.server({ files: [todo, settings] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  for (const c of [a, b]) {
    const m = c.hello;
    assert.equal(m.type, 'hello');
    assert.equal(m.protocol, 1);
    assert.equal(m.server, `mirrorstate/${projectVersion()}`);
    assert.equal(typeof m.session, 'string');
    assert.ok(m.session.length > 0, 'session id is empty');
    assert.equal(typeof m.client, 'string');
    assert.ok(m.client.length > 0, 'client id is empty');
    assert.deepEqual([...m.states].sort(), ['settings', 'todo']);
  }
  assert.equal(a.hello.session, b.hello.session, 'one server run, one session');
  assert.notEqual(a.hello.client, b.hello.client, 'connections need distinct ids');
  // The hello comes first and alone.
  assert.equal(a.log[0].type, 'hello');
  await a.expectNone(() => true, 100);
});

test('subscribe to an existing file: snapshot version 1 with the parsed state', async (t) => {
  const h = setup(t);
  const state = { title: 'groceries', items: [{ id: 1, text: 'milk', done: false }], n: 0.1, big: 1e21 };
  const f = h.file('todo.json', state);
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  const snap = await c.subscribe('todo');
  assert.deepEqual(snap, { type: 'snapshot', name: 'todo', version: 1, state });
});

test('subscribe with init when the file is missing creates the file, pretty-printed', async (t) => {
  const h = setup(t);
  const f = h.path('todo.json');
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  const init = { items: [], filter: 'all', nested: { a: [1, 2, { b: null }], e: {}, l: [] } };
  const snap = await c.subscribe('todo', init);
  assert.equal(snap.version, 1);
  assert.deepEqual(snap.state, init);
  await waitForFile(f, pretty(init));
  // A second subscriber sees the same state; its init is ignored now that the state exists.
  const d = await h.client(srv);
  const snap2 = await d.subscribe('todo', { other: true });
  assert.equal(snap2.version, 1);
  assert.deepEqual(snap2.state, init);
  await sleep(QUIET);
  assert.equal(readText(f), pretty(init));
});

test('subscribe without init to a missing file: version 0, then the agent creates it', async (t) => {
  const h = setup(t);
  const f = h.path('todo.json');
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  const snap = await c.subscribe('todo');
  assert.equal(snap.version, 0);
  assert.equal(snap.exists, false);
  assert.equal(snap.state, undefined);
  await sleep(50);
  assert.equal(readText(f), null, 'subscribe without init must not create the file');
  const state = { items: [{ id: 1, text: 'eggs' }] };
  fs.writeFileSync(f, pretty(state));
  const snap2 = await c.next({ type: 'snapshot', name: 'todo' });
  assert.equal(snap2.version, 1);
  assert.deepEqual(snap2.state, state);
  assert.notEqual(snap2.exists, false);
});

test('subscribe to a name that is not mirrored: unknown_state', async (t) => {
  const h = setup(t);
  const f = h.file('todo.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  c.send({ type: 'subscribe', name: 'other' });
  const e = await c.next({ type: 'error' });
  assert.equal(e.code, 'unknown_state');
  assert.equal(e.name, 'other');
  c.send({ type: 'subscribe', name: 'other', init: { x: 1 } });
  const e2 = await c.next({ type: 'error' });
  assert.equal(e2.code, 'unknown_state');
  assert.equal(readText(h.path('other.json')), null);
  // The connection stays usable.
  const snap = await c.subscribe('todo');
  assert.deepEqual(snap.state, { a: 1 });
});

test('--dir: names by relative path; .. and absolute names are unknown_state and create nothing', async (t) => {
  const h = setup(t);
  const root = h.path('states');
  h.file('states/app/ui.json', { theme: 'dark' });
  h.file('states/main.json', { n: 1 });
  h.file('states/node_modules/dep.json', { skip: true });
  h.file('states/.hidden/secret.json', { skip: true });
  h.file('outside.json', { secret: 1 });
  const srv = await h.server({ dir: root });
  const c = await h.client(srv);
  assert.deepEqual([...c.hello.states].sort(), ['app/ui', 'main']);
  assert.deepEqual((await c.subscribe('app/ui')).state, { theme: 'dark' });

  const evil = [
    '../outside',
    '../escaped',
    'app/../../escaped2',
    h.path('abs'),
    '/tmp/mirrorstate-abs-name',
    '..',
    'app/..',
    './../escaped3',
  ];
  for (const name of evil) {
    c.send({ type: 'subscribe', name, init: { pwned: true } });
    const e = await c.next((m) => m.type === 'error' || m.type === 'snapshot');
    assert.equal(e.type, 'error', `name ${JSON.stringify(name)} was answered by ${JSON.stringify(e)}`);
    assert.equal(e.code, 'unknown_state', `name ${JSON.stringify(name)}`);
    c.send({ type: 'patch', name, ops: [{ op: 'add', path: '/pwned', value: true }], ref: name });
    const e2 = await c.next((m) => (m.type === 'error' || m.type === 'ack') && m.ref === name);
    assert.equal(e2.type, 'error', `patch to ${JSON.stringify(name)} was answered by ${JSON.stringify(e2)}`);
  }
  await sleep(QUIET);
  assert.equal(readText(h.path('outside.json')), pretty({ secret: 1 }));
  for (const p of ['escaped.json', 'escaped2.json', 'escaped3.json', 'abs.json', 'abs', '.json']) {
    assert.equal(readText(h.path(p)), null, `${p} was created outside the dir`);
  }
  assert.equal(readText('/tmp/mirrorstate-abs-name.json'), null);
  assert.equal(readText(h.path('states/.hidden/secret.json')), pretty({ skip: true }));
  assert.equal(readText(h.path('states/node_modules/dep.json')), pretty({ skip: true }));

  // A valid new name under --dir with init creates its file there.
  const snap = await c.subscribe('fresh', { made: 1 });
  assert.equal(snap.version, 1);
  await waitForFile(path.join(root, 'fresh.json'), pretty({ made: 1 }));
  // Nothing else appeared anywhere in the test's directory.
  const listing = fs.readdirSync(h.dir, { recursive: true }).filter((p) => !p.includes('/.') && !p.startsWith('.')).sort();
  assert.deepEqual(listing, [
    'outside.json', 'states', 'states/app', 'states/app/ui.json', 'states/fresh.json',
    'states/main.json', 'states/node_modules', 'states/node_modules/dep.json',
  ]);
});

test('patch: ack to the sender, patch with origin client:<id> to others, file rewritten byte for byte', async (t) => {
  const h = setup(t);
  const f = h.file('todo.json', { items: [{ id: 1, text: 'milk', done: false }], count: 1 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('todo');
  await b.subscribe('todo');
  const ops = [
    { op: 'replace', path: '/items/0/done', value: true },
    { op: 'add', path: '/items/-', value: { id: 2, text: 'eggs', done: false } },
    { op: 'add', path: '/when', value: 1e-7 },
    { op: 'remove', path: '/count' },
  ];
  a.send({ type: 'patch', name: 'todo', base: 1, ops, ref: 42 });
  const ack = await a.next({ type: 'ack' });
  assert.deepEqual(ack, { type: 'ack', name: 'todo', ref: 42, version: 2 });
  const p = await b.next({ type: 'patch' });
  assert.equal(p.name, 'todo');
  assert.equal(p.version, 2);
  assert.equal(p.origin, `client:${a.id}`);
  assert.deepEqual(p.ops, ops);
  const expected = { items: [{ id: 1, text: 'milk', done: true }, { id: 2, text: 'eggs', done: false }], when: 1e-7 };
  await waitForFile(f, pretty(expected));
  assert.ok(readText(f).includes('"when": 1e-7'));
  // Never echoed to the sender; no file echo to anyone.
  await a.expectNone({ type: 'patch' });
  await b.expectNone({ type: 'patch' }, 0);
  // A later subscriber gets the new state.
  const c = await h.client(srv);
  assert.deepEqual(await c.subscribe('todo'), { type: 'snapshot', name: 'todo', version: 2, state: expected });
});

test('set: diffed into a small patch (one-key set on a large object is one op)', async (t) => {
  const h = setup(t);
  const big = {};
  for (let i = 0; i < 500; i++) big[`k${i}`] = { i, label: `item ${i}`, tags: ['a', 'b'] };
  const f = h.file('big.json', big);
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('big');
  await b.subscribe('big');
  const next = structuredClone(big);
  next.k250.label = 'changed';
  a.send({ type: 'set', name: 'big', base: 1, state: next, ref: 's1' });
  assert.deepEqual(await a.next({ type: 'ack' }), { type: 'ack', name: 'big', ref: 's1', version: 2 });
  const p = await b.next({ type: 'patch' });
  assert.equal(p.origin, `client:${a.id}`);
  assert.deepEqual(p.ops, [{ op: 'replace', path: '/k250/label', value: 'changed' }]);
  await waitForFile(f, pretty(next));

  // A set equal to the current state spends no version and broadcasts nothing.
  a.send({ type: 'set', name: 'big', state: next, ref: 's2' });
  assert.deepEqual(await a.next({ type: 'ack' }), { type: 'ack', name: 'big', ref: 's2', version: 2 });
  await b.expectNone({ type: 'patch' });
});

test('empty ops are acked with the current version and broadcast nothing', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  a.send({ type: 'patch', name: 's', ops: [], ref: 'e' });
  assert.deepEqual(await a.next({ type: 'ack' }), { type: 'ack', name: 's', ref: 'e', version: 1 });
  await b.expectNone({ type: 'patch' });
  const ack = await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  assert.equal(ack.version, 2);
});

test('unsubscribe: later changes are not sent', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  b.send({ type: 'unsubscribe', name: 's' });
  await sleep(50);
  await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  fs.writeFileSync(f, pretty({ a: 3 }));
  await a.next({ type: 'patch', origin: 'file' });
  await b.expectNone({ type: 'patch' });
});

test('malformed messages get bad_message; the connection stays usable; others unaffected', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await b.subscribe('s');
  const bad = [
    'this is not json',
    '{"type":',
    '[1,2,3]',
    '"subscribe"',
    '42',
    'null',
    JSON.stringify({ type: 'no-such-type', name: 's' }),
    JSON.stringify({ name: 's' }),
    JSON.stringify({ type: 'subscribe' }),
    JSON.stringify({ type: 'subscribe', name: 7 }),
    JSON.stringify({ type: 'patch', name: 's', ops: 'nope', ref: 1 }),
  ];
  for (const text of bad) {
    a.sendRaw(text);
    const e = await a.next((m) => m.type === 'error' || m.type === 'snapshot' || m.type === 'ack');
    assert.equal(e.type, 'error', `${text} was answered by ${JSON.stringify(e)}`);
    // `ops` that is not an array is both a wrong field type (bad_message) and
    // a malformed patch document (invalid_patch); the reference allows either.
    const codes = text.includes('"nope"') ? ['bad_message', 'invalid_patch'] : ['bad_message'];
    assert.ok(codes.includes(e.code), `${text} got ${JSON.stringify(e)}`);
    assert.equal(typeof e.message, 'string');
  }
  assert.equal(a.closeInfo, null, 'connection was closed');
  const snap = await a.subscribe('s');
  assert.deepEqual(snap.state, { a: 1 });
  // b never saw any of it, and still gets changes.
  assert.deepEqual(b.take({ type: 'error' }), []);
  await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  const p = await b.next({ type: 'patch' });
  assert.deepEqual(p.ops, [{ op: 'replace', path: '/a', value: 2 }]);
});

test('two clients see each other\'s changes', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 0, b: 0 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 1 }]);
  assert.equal((await b.next({ type: 'patch' })).origin, `client:${a.id}`);
  await b.patchAcked('s', [{ op: 'replace', path: '/b', value: 2 }]);
  const p = await a.next({ type: 'patch' });
  assert.equal(p.origin, `client:${b.id}`);
  assert.equal(p.version, 3);
  assert.deepEqual(a.replica('s').state, { a: 1, b: 2 });
  assert.deepEqual(b.replica('s').state, { a: 1, b: 2 });
  await waitForFile(f, pretty({ a: 1, b: 2 }));
});

test('200 back-to-back patches: all acked in order, none lost, file holds all', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { count: 0, items: [] });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  const N = 200;
  for (let i = 1; i <= N; i++) {
    a.send({ type: 'patch', name: 's', ops: [{ op: 'replace', path: '/count', value: i }, { op: 'add', path: '/items/-', value: i }], ref: i });
  }
  for (let i = 1; i <= N; i++) {
    const m = await a.next((x) => x.type === 'ack' || x.type === 'error');
    assert.deepEqual(m, { type: 'ack', name: 's', ref: i, version: i + 1 });
  }
  for (let i = 1; i <= N; i++) {
    const p = await b.next({ type: 'patch' });
    assert.equal(p.version, i + 1, 'versions arrive in order with no gaps');
  }
  const expected = { count: N, items: Array.from({ length: N }, (_, i) => i + 1) };
  assert.deepEqual(b.replica('s').state, expected);
  await waitForFile(f, pretty(expected));
});

test('subscribing twice does not duplicate patches; states are independent', async (t) => {
  const h = setup(t);
  const one = h.file('one.json', { a: 1 });
  const two = h.file('two.json', { b: 1 });
  const srv = await h.server({ files: [one, two] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('one');
  await b.subscribe('one');
  const again = await b.subscribe('one');
  assert.equal(again.version, 1);
  await b.subscribe('two');
  await a.patchAcked('one', [{ op: 'replace', path: '/a', value: 2 }]);
  const p = await b.next({ type: 'patch' });
  assert.equal(p.name, 'one');
  await b.expectNone({ type: 'patch' });
  // Versions are per state.
  assert.equal((await a.subscribe('two')).version, 1);
  assert.equal((await a.patchAcked('two', [{ op: 'replace', path: '/b', value: 2 }])).version, 2);
  assert.equal((await b.next({ type: 'patch', name: 'two' })).version, 2);
  await waitForFile(one, pretty({ a: 2 }));
  await waitForFile(two, pretty({ b: 2 }));
});

test('a patch to a state that does not exist is a conflict; a set creates it', async (t) => {
  const h = setup(t);
  const f = h.path('s.json');
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await b.subscribe('s');
  a.send({ type: 'patch', name: 's', ops: [{ op: 'add', path: '/a', value: 1 }], ref: 'p' });
  const e = await a.next((m) => (m.type === 'error' || m.type === 'ack') && m.ref === 'p');
  assert.equal(e.type, 'error');
  assert.equal(e.code, 'conflict');
  await sleep(QUIET);
  assert.equal(readText(f), null);
  a.send({ type: 'set', name: 's', state: { created: true }, ref: 's' });
  const ack = await a.next((m) => (m.type === 'error' || m.type === 'ack') && m.ref === 's');
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  assert.equal(ack.version, 1);
  await waitForFile(f, pretty({ created: true }));
  // The waiting subscriber learns of it.
  const m = await b.next((x) => x.name === 's' && (x.type === 'snapshot' || x.type === 'patch'));
  if (m.type === 'snapshot') assert.deepEqual(m.state, { created: true });
  else assert.deepEqual(b.replica('s').state, { created: true });
});

test('--dir: a valid missing name waits; files the agent creates later (also in new folders) become states', async (t) => {
  const h = setup(t);
  const root = h.path('states');
  h.file('states/main.json', { n: 1 });
  const srv = await h.server({ dir: root });
  const c = await h.client(srv);
  const snap = await c.subscribe('later');
  assert.equal(snap.version, 0);
  assert.equal(snap.exists, false);
  fs.writeFileSync(path.join(root, 'later.json'), pretty({ hi: 1 }));
  const s2 = await c.next({ type: 'snapshot', name: 'later' });
  assert.equal(s2.version, 1);
  assert.deepEqual(s2.state, { hi: 1 });

  const snap3 = await c.subscribe('deep/er/x');
  assert.equal(snap3.version, 0);
  fs.mkdirSync(path.join(root, 'deep', 'er'), { recursive: true });
  fs.writeFileSync(path.join(root, 'deep', 'er', 'x.json'), pretty({ deep: true }));
  const s4 = await c.next({ type: 'snapshot', name: 'deep/er/x' });
  assert.deepEqual(s4.state, { deep: true });
  // And it is mirrored both ways.
  await c.patchAcked('deep/er/x', [{ op: 'replace', path: '/deep', value: false }]);
  await waitForFile(path.join(root, 'deep', 'er', 'x.json'), pretty({ deep: false }));
  const d = await h.client(srv);
  assert.deepEqual([...d.hello.states].sort(), ['deep/er/x', 'later', 'main']);
});

test('a client that disconnects mid-stream does not disturb the others', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { n: 0 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  for (let i = 1; i <= 50; i++) a.patch('s', [{ op: 'replace', path: '/n', value: i }], { ref: i });
  b.close(); // abrupt: no close frame
  await a.next({ type: 'ack', ref: 50 });
  const c = await h.client(srv);
  assert.deepEqual((await c.subscribe('s')).state, { n: 50 });
  await waitForFile(f, pretty({ n: 50 }));
});
