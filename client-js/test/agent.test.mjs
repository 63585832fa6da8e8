// What closes the agent's loop, client side: `applied` reports after the
// subscribers ran (coalesced, the final version always sent) and page error
// reports (uncaught errors, unhandled rejections, console.error; rate
// limited; opt-out), relayed by the server to panels. Also the panel role:
// identify, request(), raw messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/client.js';
import { FakeServer, settle, until } from './fake-server.mjs';
import { sleep } from '../../tests/lib/wait.mjs';

const open = (server, opts = {}) =>
  connect({ url: 'ws://fake/_mirrorstate/ws', WebSocket: server.WebSocket, fetch: server.fetch, reconnect: { minDelay: 5, maxDelay: 20 }, ...opts });

// A browser-like global for the duration of fn: addEventListener on an
// EventTarget, and a location with a query and a fragment.
async function withPage(fn) {
  const target = new EventTarget();
  const saved = {
    addEventListener: globalThis.addEventListener,
    removeEventListener: globalThis.removeEventListener,
    location: Object.getOwnPropertyDescriptor(globalThis, 'location'),
  };
  globalThis.addEventListener = target.addEventListener.bind(target);
  globalThis.removeEventListener = target.removeEventListener.bind(target);
  Object.defineProperty(globalThis, 'location', {
    value: { origin: 'http://app.test:3000', pathname: '/todo/', href: 'http://app.test:3000/todo/?token=x#top' },
    configurable: true, writable: true,
  });
  const consoleError = console.error;
  console.error = () => {}; // the page's console.error, quiet in the test output
  try {
    return await fn(target);
  } finally {
    console.error = consoleError;
    globalThis.addEventListener = saved.addEventListener;
    globalThis.removeEventListener = saved.removeEventListener;
    if (saved.location) Object.defineProperty(globalThis, 'location', saved.location);
    else delete globalThis.location;
  }
}

const fire = (target, type, props) => target.dispatchEvent(Object.assign(new Event(type), props));

test('applied: reported after the subscribers ran; coalesced; the final version always', async () => {
  const server = new FakeServer({ s: { n: 0 }, t: { x: 0 } });
  const m = open(server);
  const s = m.state('s');
  const t = m.state('t');
  await Promise.all([s.ready, t.ready]);
  const ws = [...server.sockets][0];
  await until(() => ws.applied?.s === 1 && ws.applied?.t === 1, 2000, 'versions 1 reported');
  let seen = 0;
  s.subscribe((v) => { seen = v.n; });
  for (let i = 1; i <= 30; i++) server.apply('s', [{ op: 'replace', path: '/n', value: i }], 'file');
  s.update((d) => { d.n++; });
  await s.settled();
  assert.equal(seen, 31);
  await until(() => ws.applied?.s === 32, 2000, 'the final version reported');
  const reports = server.received.filter((x) => x.type === 'applied' && x.name === 's');
  assert.ok(reports.length < 10, `coalesced: ${reports.length} reports for 32 versions`);
  assert.deepEqual(reports.at(-1), { from: ws.id, type: 'applied', name: 's', version: 32 });
  await sleep(120);
  assert.equal(server.received.filter((x) => x.type === 'applied' && x.name === 's').length, reports.length, 'nothing more once quiet');
  m.close();
});

test('applied: a server without it is not bothered again on that connection', async () => {
  const server = new FakeServer({ s: { n: 0 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  // Answer `applied` the way a server from before it does.
  const ws = [...server.sockets][0];
  const errors = [];
  m.on('error', (e) => errors.push(e));
  ws.onmessage({ data: JSON.stringify({ type: 'error', code: 'bad_message', message: 'unknown message type "applied"', name: 's' }) });
  server.apply('s', [{ op: 'replace', path: '/n', value: 1 }], 'file');
  await sleep(120);
  assert.equal(server.received.filter((x) => x.type === 'applied' && x.version === 2).length, 0);
  assert.deepEqual(errors, []);
  assert.equal(s.error, null);
  m.close();
});

test('page errors: uncaught, unhandled rejection, console.error; with url and versions; relayed to panels', async () => {
  await withPage(async (target) => {
    const server = new FakeServer({ todo: { items: [] } });
    const panel = open(server, { role: 'panel', page: 'http://srv/_mirrorstate/' });
    const relayed = [];
    panel.on('message', (msg) => { if (msg.type === 'page_error') relayed.push(msg); });
    const m = open(server);
    const todo = m.state('todo');
    await todo.ready;
    const boom = new TypeError('items is not iterable');
    fire(target, 'error', { message: 'Uncaught TypeError: items is not iterable', error: boom });
    fire(target, 'unhandledrejection', { reason: new Error('save failed') });
    console.error('render failed:', new RangeError('bad index'));
    await until(() => server.pageErrors.length === 3, 2000, 'three reports');
    const [e1, e2, e3] = server.pageErrors;
    assert.equal(e1.kind, 'error');
    assert.equal(e1.message, 'Uncaught TypeError: items is not iterable');
    assert.match(e1.stack, /TypeError: items is not iterable/);
    assert.equal(e1.url, 'http://app.test:3000/todo/', 'no query, no fragment');
    assert.deepEqual(e1.states, { todo: 1 });
    assert.equal(e2.kind, 'unhandledrejection');
    assert.equal(e2.message, 'Error: save failed');
    assert.equal(e3.kind, 'console');
    assert.equal(e3.message, 'render failed: RangeError: bad index');
    assert.match(e3.stack, /RangeError: bad index/);
    await until(() => relayed.length === 3, 2000, 'relayed to the panel');
    assert.equal(relayed[0].client, [...server.sockets].find((w) => w.role === 'app').id);
    assert.equal(server.pageErrors.filter((e) => e.client === panel.clientId).length, 0, 'the panel reports nothing');
    m.close();
    panel.close();
  });
});

test('page errors: at most 10 per 10 s; reportErrors: false reports nothing; close() unhooks console.error', async () => {
  await withPage(async (target) => {
    const before = console.error;
    const server = new FakeServer({ s: 1 });
    const quiet = open(server, { reportErrors: false });
    const m = open(server);
    await Promise.all([m.state('s').ready, quiet.state('s').ready]);
    for (let i = 0; i < 25; i++) fire(target, 'error', { message: `error ${i}`, error: new Error(`error ${i}`) });
    await sleep(50);
    assert.equal(server.pageErrors.length, 10);
    assert.deepEqual(server.pageErrors.map((e) => e.message), Array.from({ length: 10 }, (_, i) => `error ${i}`));
    const ids = new Set(server.pageErrors.map((e) => e.client));
    assert.equal(ids.size, 1, 'only the reporting mirror');
    assert.notEqual(console.error, before);
    m.close();
    quiet.close();
    assert.equal(console.error, before);
  });
});

test('page errors raised while offline are sent once connected', async () => {
  await withPage(async (target) => {
    const server = new FakeServer({ s: 1 });
    server.down = true;
    const m = open(server, { warnAfter: 0 });
    fire(target, 'error', { message: 'early', error: new Error('early') });
    await sleep(30);
    assert.equal(server.pageErrors.length, 0);
    server.down = false;
    await until(() => server.pageErrors.length === 1, 3000, 'sent after connecting');
    assert.equal(server.pageErrors[0].message, 'early');
    m.close();
  });
});

test('panel role: identify, request() answered by ref, raw messages; no applied reports', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  const m = open(server, { role: 'panel', page: 'http://srv/_mirrorstate/' });
  const s = m.state('s');
  await s.ready;
  const ws = [...server.sockets][0];
  assert.equal(ws.role, 'panel');
  assert.equal(ws.page, 'http://srv/_mirrorstate/');
  const answer = await m.request({ type: 'patch', name: 's', ops: [{ op: 'bogus', path: '/a' }] });
  assert.equal(answer.type, 'error');
  assert.equal(answer.code, 'invalid_patch');
  assert.equal(s.error, null, 'a request\'s error is the caller\'s, not the state\'s');
  s.patch([{ op: 'replace', path: '/a', value: 2 }]);
  await s.settled();
  assert.equal(server.received.find((x) => x.type === 'patch' && x.ops[0].op === 'replace').from, ws.id);
  const origin = server.states.get('s').log.at(-1).origin;
  assert.equal(origin, 'panel');
  await sleep(80);
  assert.equal(server.received.filter((x) => x.type === 'applied').length, 0);
  m.close();
  const late = await m.request({ type: 'states' });
  assert.equal(late.type, 'error');
  assert.equal(late.code, 'offline');
  await settle();
});
