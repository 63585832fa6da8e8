// Transactions against the fake server: update(fn) is re-run on the newer
// state instead of sending a value computed from a stale one; changes made
// before the first snapshot wait for it; boot data gives the value at once;
// refused changes are rolled back; a random mix of all of it converges.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/client.js';
import { FakeServer, settle, until } from './fake-server.mjs';
import { rng } from '../../tests/lib/rng.mjs';

const open = (server, opts = {}) =>
  connect({ url: 'ws://fake/_mirrorstate/ws', WebSocket: server.WebSocket, fetch: server.fetch, reconnect: { minDelay: 5, maxDelay: 20 }, ...opts });

const sent = (server, type = 'patch') => server.received.filter((m) => m.type === type);

function captureConsole(level) {
  const original = console[level];
  const calls = [];
  console[level] = (...args) => { calls.push(args.map(String).join(' ')); };
  return { calls, restore: () => { console[level] = original; } };
}

test('transactions go out strict; set() and patch() do not', async () => {
  const server = new FakeServer({ s: { a: 0, b: 0 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  s.update((d) => { d.a++; });
  await s.settled();
  s.set({ a: 1, b: 5 });
  await s.settled();
  s.patch([{ op: 'replace', path: '/b', value: 6 }]);
  await s.settled();
  const p = sent(server);
  assert.equal(p.length, 3);
  assert.equal(p[0].strict, true);
  assert.equal(p[1].strict, undefined);
  assert.equal(p[2].strict, undefined);
  m.close();
});

test('two clients x 20 simultaneous increments count 40', async () => {
  const server = new FakeServer({ c: { count: 0 } });
  const [m1, m2] = [open(server), open(server)];
  const [a, b] = [m1.state('c'), m2.state('c')];
  await Promise.all([a.ready, b.ready]);
  for (let i = 0; i < 20; i++) {
    a.update((d) => { d.count++; });
    b.update((d) => { d.count++; });
    await settle(1); // each its own message, interleaved on the server
  }
  await until(() => a.pending === 0 && b.pending === 0, 5000, 'both settled');
  await settle();
  assert.equal(server.value('c').count, 40);
  assert.deepEqual(a.get(), server.value('c'));
  assert.deepEqual(b.get(), server.value('c'));
  assert.ok(server.conflicts > 0, 'the race happened: some patches were stale');
  m1.close();
  m2.close();
});

test('a remote change to the same path while a transaction is in flight: shown re-run at once', async () => {
  const server = new FakeServer({ c: { count: 5 } });
  const m = open(server);
  const c = m.state('c');
  await c.ready;
  server.holdIncoming = true;
  c.update((d) => { d.count++; });
  await settle();
  assert.equal(c.get().count, 6);
  server.apply('c', [{ op: 'replace', path: '/count', value: 10 }], 'file');
  await settle();
  assert.equal(c.get().count, 11, 'the page shows the increment on the newer value');
  server.holdIncoming = false;
  server.process();
  await c.settled();
  assert.deepEqual(server.value('c'), { count: 11 });
  assert.deepEqual(c.get(), { count: 11 });
  m.close();
});

test('changes before the first snapshot wait for it: the file 99 + 1 = 100', async () => {
  const server = new FakeServer({ app: { count: 99, clicks: 0 } });
  server.hold = true; // nothing from the server arrives yet
  const m = open(server);
  const app = m.state('app', { initial: { count: 0, clicks: 0 } });
  await settle();
  assert.equal(app.loaded, false);
  app.update((d) => { d.count++; });
  app.update((d) => { d.clicks++; });
  assert.deepEqual(app.get(), { count: 1, clicks: 1 }, 'shown on initial meanwhile');
  assert.equal(sent(server).length, 0, 'nothing sent before the snapshot');
  server.hold = false;
  server.deliver();
  await app.settled();
  assert.deepEqual(server.value('app'), { count: 100, clicks: 1 });
  assert.deepEqual(app.get(), { count: 100, clicks: 1 });
  assert.equal(sent(server, 'subscribe')[0].init !== undefined, true, 'initial is sent, only to create a missing file');
  m.close();
});

test('without initial, a change before the snapshot runs once the value is known', async () => {
  const server = new FakeServer({ app: { count: 99 } });
  server.hold = true;
  const m = open(server);
  const app = m.state('app');
  await settle();
  app.update((d) => { d.count++; });
  assert.equal(app.get(), undefined);
  server.hold = false;
  server.deliver();
  await app.settled();
  assert.deepEqual(server.value('app'), { count: 100 });
  m.close();
});

test('set() before the snapshot is absolute: the value given', async () => {
  const server = new FakeServer({ app: { count: 99, other: true } });
  server.hold = true;
  const m = open(server);
  const app = m.state('app', { initial: { count: 0 } });
  await settle();
  app.set({ count: 3 });
  server.hold = false;
  server.deliver();
  await app.settled();
  assert.deepEqual(server.value('app'), { count: 3 });
  m.close();
});

test('boot data: the handle starts from it synchronously; the snapshot takes over', async () => {
  const server = new FakeServer({ app: { count: 99 } });
  server.hold = true;
  const boot = { states: { app: { version: 1, exists: true, state: { count: 99 } }, gone: { version: 0, exists: false } } };
  const m = open(server, { boot });
  const app = m.state('app', { initial: { count: 0 } });
  assert.deepEqual(app.get(), { count: 99 });
  assert.equal(app.loaded, true);
  assert.equal(app.version, 1);
  assert.equal(await Promise.race([app.ready.then(() => 'ready'), settle().then(() => 'pending')]), 'ready');
  const gone = m.state('gone', { initial: { x: 1 } });
  assert.deepEqual(gone.get(), { x: 1 }, 'a missing file: initial, as it will be created');
  let renders = 0;
  app.subscribe(() => renders++);
  app.update((d) => { d.count++; });
  assert.equal(app.get().count, 100);
  server.hold = false;
  server.deliver();
  await app.settled();
  assert.deepEqual(server.value('app'), { count: 100 });
  assert.equal(renders, 1, 'the snapshot equal to the boot data notifies nobody');
  m.close();
});

test('a refused change is rolled back, sets error, warns once, and settles', async () => {
  const server = new FakeServer({ s: { text: 'ok', n: 0 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  const warn = captureConsole('warn');
  try {
    s.update((d) => { d.text = 'bad\u0000'; });
    await s.settled();
    assert.deepEqual(s.get(), { text: 'ok', n: 0 }, 'back to the server state');
    assert.equal(s.error.code, 'bad_message');
    assert.equal(s.error.name, 's');
    s.set({ text: 'again\u0000', n: 0 });
    await s.settled();
    assert.deepEqual(s.get(), { text: 'ok', n: 0 });
    s.update((d) => { d.n++; }); // later changes still work
    await s.settled();
    assert.deepEqual(server.value('s'), { text: 'ok', n: 1 });
    assert.equal(warn.calls.length, 1, 'one warning');
    assert.match(warn.calls[0], /refused a change to "s" \(bad_message/);
  } finally {
    warn.restore();
  }
  m.close();
});

test('property: random accepted and refused changes from several clients converge', async () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rand = rng(seed);
    const pick = (n) => Math.floor(rand() * n);
    const server = new FakeServer({ p: { count: 0, keys: {}, list: [] } });
    const mirrors = [open(server), open(server), open(server)];
    const handles = mirrors.map((mm) => mm.state('p'));
    await Promise.all(handles.map((h) => h.ready));
    let increments = 0;
    const warn = captureConsole('warn');
    try {
      for (let step = 0; step < 120; step++) {
        const h = handles[pick(handles.length)];
        switch (pick(7)) {
          case 0: h.update((d) => { d.count++; }); increments++; break;
          case 1: h.update((d) => { d.keys[`k${pick(5)}`] = pick(100); }); break;
          case 2: h.update((d) => { d.list.push(pick(10)); }); break;
          case 3: h.set({ ...h.get(), [`s${pick(3)}`]: pick(10) }); break;
          case 4: h.update((d) => { d.keys.bad = `x\u0000${pick(9)}`; }); break; // refused
          case 5: server.apply('p', [{ op: 'replace', path: '/keys', value: { file: pick(9) } }], 'file'); break;
          default: await settle(pick(3)); break;
        }
        if (pick(4) === 0) server.holdIncoming = !server.holdIncoming;
        if (!server.holdIncoming) server.process();
      }
      server.holdIncoming = false;
      server.process();
      await until(() => handles.every((h) => h.pending === 0), 5000, `quiet (seed ${seed})`);
      await settle();
    } finally {
      warn.restore();
    }
    for (const h of handles) assert.deepEqual(h.get(), server.value('p'), `seed ${seed}: a client differs from the server`);
    assert.equal(server.value('p').count, increments, `seed ${seed}: every increment counted`);
    assert.equal(JSON.stringify(server.value('p')).includes('\\u0000'), false);
    for (const mm of mirrors) mm.close();
  }
});
