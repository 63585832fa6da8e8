import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, defaultUrl } from '../src/client.js';
import { FakeServer, settle, until } from './fake-server.mjs';

const open = (server, opts = {}) =>
  connect({ url: 'ws://fake/_mirrorstate/ws', WebSocket: server.WebSocket, reconnect: { minDelay: 5, maxDelay: 20 }, ...opts });

const sent = (server, type = 'patch') => server.received.filter((m) => m.type === type);

/** Records console[level] calls (as one string each) until restore(). */
function captureConsole(level) {
  const original = console[level];
  const calls = [];
  console[level] = (...args) => { calls.push(args.map(String).join(' ')); };
  return { calls, restore: () => { console[level] = original; } };
}

test('url: boot data, else the server the module came from, else the page origin; token added', async () => {
  const page = { origin: 'http://vm-1:3000', href: 'http://vm-1:3000/app/', protocol: 'http:' };
  assert.equal(defaultUrl('http://vm-1:7420/_mirrorstate/client.js', page, null), 'ws://vm-1:7420/_mirrorstate/ws');
  assert.equal(defaultUrl('https://h.example/_mirrorstate/client.js?v=1', page, null), 'wss://h.example/_mirrorstate/ws');
  // A bundled or dev-served copy: the page's own origin (a proxy, or --static).
  assert.equal(defaultUrl('http://vm-1:3000/assets/index-abc.js', page, null), 'ws://vm-1:3000/_mirrorstate/ws');
  assert.equal(defaultUrl('http://vm-1:3000/_mirrorstate/other.js', page, null), 'ws://vm-1:3000/_mirrorstate/ws');
  assert.equal(defaultUrl('http://x/y.js', { origin: 'https://a.example', href: 'https://a.example/' }, null), 'wss://a.example/_mirrorstate/ws');
  // Boot data wins, relative or absolute.
  assert.equal(defaultUrl('http://vm-1:7420/_mirrorstate/client.js', page, { url: '/_mirrorstate/ws', states: {} }), 'ws://vm-1:3000/_mirrorstate/ws');
  assert.equal(defaultUrl('x', page, { url: 'http://vm-2:9/_mirrorstate/ws', states: {} }), 'ws://vm-2:9/_mirrorstate/ws');
  assert.throws(() => defaultUrl('file:///x/client.js', undefined, null));
  const server = new FakeServer({ s: 1 });
  const m = open(server, { token: 'se cret' });
  await settle();
  assert.equal([...server.sockets][0].url, 'ws://fake/_mirrorstate/ws?token=se+cret');
  assert.equal([...server.sockets][0].protocol, 'mirrorstate.v1');
  m.close();
});

test('subscribe, snapshot, status events, ready', async () => {
  const server = new FakeServer({ todo: { items: [] } });
  const m = open(server);
  const statuses = [];
  m.on('status', (s) => statuses.push(s));
  assert.equal(m.status, 'connecting');
  const todo = m.state('todo');
  assert.equal(m.state('todo'), todo, 'one handle per name');
  assert.equal(todo.get(), undefined);
  await todo.ready;
  assert.deepEqual(todo.get(), { items: [] });
  assert.equal(todo.version, 1);
  assert.equal(todo.exists, true);
  assert.equal(m.status, 'open');
  m.close();
  assert.deepEqual(statuses, ['open', 'closed']);
});

test('initial creates a missing state; no initial reports exists=false', async () => {
  const server = new FakeServer({});
  const m = open(server);
  const a = m.state('a', { initial: { n: 0 } });
  assert.deepEqual(a.get(), { n: 0 }, 'initial shows before the snapshot');
  const b = m.state('b');
  await Promise.all([a.ready, b.ready]);
  assert.deepEqual(server.value('a'), { n: 0 });
  assert.equal(b.exists, false);
  assert.equal(b.get(), undefined);
  b.set({ created: true });
  await b.settled();
  assert.deepEqual(server.value('b'), { created: true });
  assert.equal(sent(server, 'set').length, 1, 'a missing state is created with set');
  assert.equal(b.exists, true);
  m.close();
});

test('optimistic updates; a synchronous burst is one message', async () => {
  const server = new FakeServer({ c: { count: 0, items: [] } });
  const m = open(server);
  const c = m.state('c');
  await c.ready;
  const seen = [];
  c.subscribe((v) => seen.push(v.count));
  for (let i = 0; i < 10; i++) c.update((d) => { d.count++; });
  c.update((d) => { d.items.push('x'); });
  assert.equal(c.get().count, 10, 'applied at once');
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10], 'one notification per change');
  await c.settled();
  const patches = sent(server);
  assert.equal(patches.length, 1);
  assert.equal(patches[0].ops.length, 11);
  assert.equal(patches[0].base, 1);
  assert.deepEqual(patches[0].ops[10], { op: 'add', path: '/items/-', value: 'x' });
  assert.deepEqual(server.value('c'), { count: 10, items: ['x'] });
  assert.equal(c.version, 2);
  assert.equal(c.pending, 0);
  assert.equal(seen.length, 11, 'the ack changes nothing visible');
  m.close();
});

test('equal values do not notify; unsubscribe works', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  let calls = 0;
  const off = s.subscribe(() => calls++);
  s.set({ a: 1 });
  s.update((d) => { d.a = 1; });
  server.apply('s', [{ op: 'replace', path: '/a', value: 1 }]);
  await settle();
  assert.equal(calls, 0);
  server.apply('s', [{ op: 'replace', path: '/a', value: 2 }]);
  await settle();
  assert.equal(calls, 1);
  off();
  server.apply('s', [{ op: 'replace', path: '/a', value: 3 }]);
  await settle();
  assert.equal(calls, 1);
  assert.equal(s.get().a, 3);
  m.close();
});

test('incoming patches are rebased under pending local changes', async () => {
  const server = new FakeServer({ s: { a: 0, b: 0, list: [1] } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  server.holdIncoming = true;        // the server has not seen our change yet
  s.update((d) => { d.a = 1; d.list.push(2); });
  await settle();
  server.apply('s', [{ op: 'replace', path: '/b', value: 5 }, { op: 'add', path: '/list/0', value: 0 }], 'file');
  await settle();
  assert.deepEqual(s.get(), { a: 1, b: 5, list: [0, 1, 2] }, 'remote under local');
  assert.equal(s.version, 2);
  server.holdIncoming = false;
  server.process();
  await s.settled();
  assert.deepEqual(s.get(), { a: 1, b: 5, list: [0, 1, 2] });
  assert.deepEqual(server.value('s'), s.get());
  assert.equal(s.version, 3);
  m.close();
});

test('conflict: the transaction is re-run on the snapshot and sent again', async () => {
  const server = new FakeServer({ todo: { items: [{ id: 1, done: false }, { id: 2, done: false }], n: 0 } });
  const m = open(server);
  const todo = m.state('todo');
  await todo.ready;
  const conflicts = [];
  todo.on('conflict', (e) => conflicts.push(e));
  server.holdIncoming = true;
  todo.update((d) => { const t = d.items.find((x) => x.id === 2); if (t) t.done = true; d.n += 7; });
  await settle();
  // Meanwhile the file drops item 2 and changes n: our patch is stale.
  server.apply('todo', [{ op: 'remove', path: '/items/1' }, { op: 'replace', path: '/n', value: 1 }], 'file');
  server.holdIncoming = false;
  server.process();
  await until(() => todo.pending === 0 && conflicts.length === 1, 2000, 'conflict handled');
  assert.equal(conflicts[0].code, 'conflict');
  assert.deepEqual(todo.get(), { items: [{ id: 1, done: false }], n: 8 }, 're-run on the new state: 1 + 7');
  assert.deepEqual(server.value('todo'), todo.get());
  m.close();
});

test('a transaction whose function throws on the newer state is dropped with a warning', async () => {
  const server = new FakeServer({ todo: { items: [{ id: 1, done: false }] }, other: 0 });
  const m = open(server);
  const todo = m.state('todo');
  await todo.ready;
  const warn = captureConsole('warn');
  try {
    server.holdIncoming = true;
    todo.update((d) => { d.items[0].done = true; });
    await settle();
    server.apply('todo', [{ op: 'remove', path: '/items/0' }], 'file');
    server.holdIncoming = false;
    server.process();
    await until(() => todo.pending === 0, 2000, 'dropped');
    assert.deepEqual(todo.get(), { items: [] });
    assert.deepEqual(server.value('todo'), { items: [] });
    assert.equal(warn.calls.length, 1);
    assert.match(warn.calls[0], /"todo".*dropped.*threw/);
  } finally {
    warn.restore();
  }
  m.close();
});

test('a batch with a test op is a compare-and-set: dropped whole on conflict', async () => {
  const server = new FakeServer({ s: { v: 1, w: 0, x: 0 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  assert.throws(() => s.patch([{ op: 'test', path: '/v', value: 2 }]), (e) => e.code === 'conflict');
  server.holdIncoming = true;
  s.patch([{ op: 'test', path: '/v', value: 1 }, { op: 'replace', path: '/w', value: 1 }]);
  await settle();
  s.update((d) => { d.x = 1; });      // a separate batch: must survive
  await settle();
  server.apply('s', [{ op: 'replace', path: '/v', value: 2 }], 'file');
  await settle();
  assert.deepEqual(s.get(), { v: 2, w: 0, x: 1 }, 'the failed CAS is out of the view');
  server.holdIncoming = false;
  server.process();
  await s.settled();
  assert.deepEqual(server.value('s'), { v: 2, w: 0, x: 1 });
  assert.deepEqual(s.get(), server.value('s'));
  m.close();
});

test('two clients on one state converge', async () => {
  const server = new FakeServer({ c: { count: 0 } });
  const m1 = open(server);
  const m2 = open(server);
  const a = m1.state('c');
  const b = m2.state('c');
  await Promise.all([a.ready, b.ready]);
  for (let i = 0; i < 5; i++) { a.update((d) => { d.count++; }); b.update((d) => { d[`k${i}`] = i; }); await settle(1); }
  await Promise.all([a.settled(), b.settled()]);
  await settle();
  assert.deepEqual(a.get(), server.value('c'));
  assert.deepEqual(b.get(), server.value('c'));
  assert.equal(a.get().count, 5);
  m1.close();
  m2.close();
});

test('reconnect: changes made while offline are sent after resubscribe', async () => {
  const server = new FakeServer({ c: { count: 0 } });
  const m = open(server);
  const c = m.state('c');
  await c.ready;
  server.down = true;
  server.dropAll();
  await until(() => m.status !== 'open', 1000, 'offline');
  for (let i = 0; i < 3; i++) c.update((d) => { d.count++; });
  assert.equal(c.get().count, 3);
  await settle();
  assert.equal(sent(server).length, 0);
  server.down = false;
  await until(() => m.status === 'open', 2000, 'reconnected');
  await c.settled();
  assert.deepEqual(server.value('c'), { count: 3 });
  m.close();
});

test('server restart: new session, versions start again, nothing lost', async () => {
  const server = new FakeServer({ todo: { items: [] } });
  const m = open(server);
  const todo = m.state('todo');
  const hellos = [];
  m.on('hello', (h) => hellos.push(h));
  await todo.ready;
  todo.update((d) => { d.items.push({ id: 1 }); });
  await todo.settled();
  assert.equal(todo.version, 2);
  server.holdIncoming = true;       // in flight when the server goes away
  todo.update((d) => { d.items.push({ id: 2 }); });
  await settle();
  server.holdIncoming = false;
  server._inbox = [];               // the server never saw it
  server.down = true;
  server.restart();
  await until(() => m.status !== 'open', 1000, 'offline');
  todo.update((d) => { d.items.push({ id: 3 }); });  // made while offline
  server.apply('todo', [{ op: 'add', path: '/extra', value: true }], 'file'); // edited meanwhile
  server.down = false;
  await until(() => hellos.length === 2, 2000, 'hello');
  assert.equal(hellos[0].restarted, false);
  assert.equal(hellos[1].restarted, true);
  await todo.settled();
  assert.deepEqual(server.value('todo'), { items: [{ id: 1 }, { id: 2 }, { id: 3 }], extra: true });
  assert.deepEqual(todo.get(), server.value('todo'));
  m.close();
});

test('a change applied by the server whose ack was lost is not sent twice', async () => {
  const server = new FakeServer({ todo: { items: [], flag: false } });
  const m = open(server);
  const todo = m.state('todo');
  await todo.ready;
  server.hold = true;                // answers never reach us
  todo.update((d) => { d.items.push({ id: 1 }); d.flag = true; });
  await settle();
  assert.deepEqual(server.value('todo'), { items: [{ id: 1 }], flag: true });
  server.hold = false;
  server.dropAll();
  await until(() => m.status === 'open' && todo.pending === 0, 2000, 'resynced');
  assert.deepEqual(server.value('todo'), { items: [{ id: 1 }], flag: true });
  assert.deepEqual(todo.get(), server.value('todo'));
  m.close();
});

test('a version gap triggers a resubscribe', async () => {
  const server = new FakeServer({ s: { n: 0 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  const ws = [...server.sockets][0];
  ws.onmessage({ data: JSON.stringify({ type: 'patch', name: 's', version: 5, ops: [{ op: 'replace', path: '/n', value: 9 }], origin: 'file' }) });
  await settle();
  assert.equal(sent(server, 'subscribe').length, 2);
  assert.deepEqual(s.get(), { n: 0 });
  m.close();
});

test('file errors surface on the handle and as events', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  const handleErrors = [];
  const mirrorErrors = [];
  s.on('error', (e) => handleErrors.push(e));
  m.on('error', (e) => mirrorErrors.push(e));
  server.error('s', 'file_invalid', { file: '/x/s.json', line: 3, column: 7, text: '  "a": ,' });
  await settle();
  assert.equal(s.error.code, 'file_invalid');
  assert.equal(s.error.line, 3);
  assert.equal(mirrorErrors[0].name, 's');
  s.update((d) => { d.a = 2; });     // still works meanwhile
  await s.settled();
  server.error('s', 'file_ok');
  await settle();
  assert.equal(s.error, null);
  assert.deepEqual(handleErrors.map((e) => e && e.code), ['file_invalid', null]);
  server.error('s', 'file_removed');
  await settle();
  assert.equal(s.error.code, 'file_removed');
  m.close();
});

test('invalid_patch drops the change and reverts the optimistic value', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  // Forge a malformed change the way a buggy caller could: through the raw
  // list of waiting steps (the draft API cannot produce one).
  const warn = captureConsole('warn');
  try {
    s.update((d) => { d.a = 2; });
    s._steps[0].ops[0] = { op: 'replace', path: 'a', value: 2 };
    await s.settled();
    assert.equal(s.error.code, 'invalid_patch');
    assert.deepEqual(s.get(), { a: 1 });
    assert.equal(warn.calls.length, 1);
  } finally {
    warn.restore();
  }
  m.close();
});

test('patch events carry origin; mirror.close stops reconnecting', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  const ev = [];
  m.on('patch', (p) => ev.push(p));
  s.on('patch', (p) => ev.push(p));
  server.apply('s', [{ op: 'replace', path: '/a', value: 2 }], 'panel');
  await settle();
  assert.equal(ev.length, 2);
  assert.equal(ev[0].origin, 'panel');
  assert.equal(ev[0].version, 2);
  m.close();
  assert.equal(m.status, 'closed');
  const before = server._clients;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(server._clients, before);
});
