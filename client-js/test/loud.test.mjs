// The client fails loudly: an unknown state, a server that cannot be
// reached, a refused token and a closed mirror each give one console message
// naming the state and the fix, and show in state.error and state.status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/client.js';
import { FakeServer, settle, until } from './fake-server.mjs';

const open = (server, opts = {}) =>
  connect({ url: 'ws://fake/_mirrorstate/ws', WebSocket: server.WebSocket, fetch: server.fetch, reconnect: { minDelay: 5, maxDelay: 20 }, ...opts });

function captureConsole() {
  const saved = { warn: console.warn, error: console.error };
  const calls = [];
  console.warn = (...a) => calls.push({ level: 'warn', text: a.map(String).join(' ') });
  console.error = (...a) => calls.push({ level: 'error', text: a.map(String).join(' ') });
  return { calls, restore: () => Object.assign(console, saved) };
}

test('an unknown state: one message naming it and the names served; status error; ready resolves', async () => {
  const server = new FakeServer({ state: { count: 1 } });
  server.names = ['state'];
  const c = captureConsole();
  try {
    const m = open(server);
    const todo = m.state('todo', { initial: { items: [] } });
    await todo.ready;
    assert.equal(todo.status, 'error');
    assert.equal(todo.error.code, 'unknown_state');
    todo.update((d) => { d.items.push(1); });
    await settle();
    assert.equal(server.received.filter((x) => x.type === 'patch' || x.type === 'set').length, 0);
    assert.equal(c.calls.length, 1, JSON.stringify(c.calls));
    assert.match(c.calls[0].text, /does not mirror a state named "todo"/);
    assert.match(c.calls[0].text, /"state"/);
    assert.match(c.calls[0].text, /mirror\.state\("state"\)/);
    assert.equal(m.state('state').status, 'connecting');
    await m.state('state').ready;
    assert.equal(m.state('state').status, 'live');
    m.close();
  } finally {
    c.restore();
  }
});

test('an unreachable server: one warning after warnAfter; status offline; cleared when it answers', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  server.down = true;
  const c = captureConsole();
  try {
    const m = open(server, { warnAfter: 60 });
    const s = m.state('s');
    assert.equal(s.status, 'connecting');
    await until(() => c.calls.length > 0, 3000, 'the warning');
    await settle(3);
    assert.equal(c.calls.length, 1);
    assert.equal(c.calls[0].level, 'warn');
    assert.match(c.calls[0].text, /cannot reach the MirrorState server at ws:\/\/fake\/_mirrorstate\/ws/);
    assert.match(c.calls[0].text, /mirrorstate serve/);
    assert.equal(s.status, 'offline');
    assert.equal(s.error.code, 'unreachable');
    server.down = false;
    await s.ready;
    await until(() => s.status === 'live', 3000, 'live');
    assert.equal(s.error, null);
    m.close();
  } finally {
    c.restore();
  }
});

test('a refused token: one error naming the reason and connect({ token }); status error', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  server.token = 'secret';
  const c = captureConsole();
  try {
    const m = open(server, { token: 'wrong' });
    const s = m.state('s');
    await until(() => c.calls.length > 0, 3000, 'the message');
    assert.equal(c.calls[0].level, 'error');
    assert.match(c.calls[0].text, /refused the connection: missing or wrong token/);
    assert.match(c.calls[0].text, /connect\(\{ token \}\)/);
    assert.doesNotMatch(c.calls[0].text, /wrong&|token=wrong/, 'the token is not printed');
    assert.equal(s.status, 'error');
    assert.equal(s.error.code, 'forbidden');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.calls.length, 1, 'once, although it keeps retrying');
    m.close();
    const ok = open(server, { token: 'secret' });
    await ok.state('s').ready;
    assert.equal(ok.state('s').status, 'live');
    ok.close();
  } finally {
    c.restore();
  }
});

test('a closed mirror: a change is dropped with one error naming the state; status error', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  const m = open(server);
  const s = m.state('s');
  await s.ready;
  m.close();
  const c = captureConsole();
  try {
    s.update((d) => { d.a = 2; });
    s.set({ a: 3 });
    assert.equal(c.calls.length, 1);
    assert.equal(c.calls[0].level, 'error');
    assert.match(c.calls[0].text, /"s" after its mirror was closed/);
    assert.match(c.calls[0].text, /connect\(\)/);
    assert.deepEqual(s.get(), { a: 1 });
    assert.equal(s.status, 'error');
    assert.equal(s.error.code, 'closed');
    await s.settled();
  } finally {
    c.restore();
  }
});
