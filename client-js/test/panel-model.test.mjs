// The devtools panel's protocol model (panel/model.js) on the client's
// connection, against the fake server: no DOM, the view replaced by
// recording callbacks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PanelModel, serverOf } from '../panel/model.js';
import { FakeServer, settle, until } from './fake-server.mjs';

function model(server) {
  const seen = { renders: [], log: [], toasts: [], status: [] };
  const m = new PanelModel({ url: 'ws://fake/_mirrorstate/ws', page: 'http://fake/_mirrorstate/', WebSocket: server.WebSocket, fetch: server.fetch }, {
    render: (d) => seen.renders.push(d),
    log: (e) => seen.log.push(e),
    toast: (text, level) => seen.toasts.push({ text, level }),
    status: (s) => seen.status.push(s.state),
  });
  return { m, seen };
}

test('serverOf: the panel\'s own server and its ?token=', () => {
  assert.deepEqual(serverOf({ protocol: 'http:', host: 'vm-1:7420', search: '?token=a%20b' }), { url: 'ws://vm-1:7420/_mirrorstate/ws', token: 'a b' });
  assert.deepEqual(serverOf({ protocol: 'https:', host: 'h', search: '' }), { url: 'wss://h/_mirrorstate/ws', token: undefined });
});

test('the model follows every state: snapshots, changes with old values, its own edits as origin panel', async () => {
  const server = new FakeServer({ todo: { items: [{ id: 1, text: 'milk' }] }, prefs: { theme: 'dark' } });
  const { m, seen } = model(server);
  await until(() => m.states.get('todo')?.version === 1 && m.states.get('prefs')?.version === 1, 2000, 'both states');
  assert.equal([...server.sockets][0].role, 'panel');
  assert.equal(m.states.get('todo').file, '/fake/todo.json');
  assert.ok(seen.status.includes('open'));

  server.apply('todo', [{ op: 'replace', path: '/items/0/text', value: 'oat milk' }], 'file');
  await until(() => m.states.get('todo').version === 2, 2000, 'the file change');
  const fileEntry = seen.log.find((e) => e.origin === 'file');
  assert.deepEqual(fileEntry.changes, [{ op: 'replace', path: '/items/0/text', value: 'oat milk', hadOld: true, old: 'milk' }]);
  assert.deepEqual(m.states.get('todo').snapshots.get(1), { items: [{ id: 1, text: 'milk' }] });

  assert.equal(m.patch('prefs', [{ op: 'replace', path: '/theme', value: 'light' }]), true);
  await until(() => m.states.get('prefs').version === 2, 2000, 'the panel edit acked');
  const own = seen.log.find((e) => e.origin === 'panel');
  assert.equal(own.name, 'prefs');
  assert.equal(own.changes[0].old, 'dark');
  assert.equal(server.states.get('prefs').log.at(-1).origin, 'panel');

  assert.equal(m.patch('prefs', [{ op: 'remove', path: '/nope' }]), false, 'does not apply: refused before sending');
  assert.match(seen.toasts.at(-1).text, /does not apply/);

  await m.set('todo', { items: [] });
  assert.deepEqual(server.value('todo'), { items: [] });
  const answer = await m.request({ type: 'history', name: 'todo' });
  assert.equal(answer.type, 'history');
  m.stop();
});

test('page errors reported by an app reach the model, with the reporting client', async () => {
  const server = new FakeServer({ s: 1 });
  const { m, seen } = model(server);
  await until(() => m.connected, 2000, 'connected');
  const app = new server.WebSocket('ws://fake/_mirrorstate/ws', 'mirrorstate.v1');
  await settle();
  app.send(JSON.stringify({ type: 'page_error', kind: 'error', message: 'Uncaught TypeError: x', url: 'http://app/', states: { s: 1 } }));
  await until(() => m.pageErrors.length === 1, 2000, 'the page error');
  assert.equal(m.pageErrors[0].client, app.id);
  assert.equal(m.pageErrors[0].message, 'Uncaught TypeError: x');
  assert.equal(seen.log.at(-1).pageError.kind, 'error');
  await until(() => m.clients.some((c) => c.id === app.id), 2000, 'the client list');
  m.stop();
});

test('a refused edit is reported to the view; the connection status reaches it', async () => {
  const server = new FakeServer({ s: { a: 1 } });
  server.refuse = (msg) => (msg.type === 'patch' ? 'forbidden' : null);
  const { m, seen } = model(server);
  await until(() => m.states.get('s')?.version === 1, 2000, 'the state');
  const warn = console.warn;
  console.warn = () => {};
  try {
    m.patch('s', [{ op: 'replace', path: '/a', value: 2 }]);
    await until(() => seen.toasts.some((t) => t.level === 'error'), 2000, 'the toast');
  } finally {
    console.warn = warn;
  }
  assert.match(seen.toasts.find((t) => t.level === 'error').text, /Edit of s failed: forbidden/);
  assert.equal(m.states.get('s').handle.get().a, 1, 'rolled back');
  server.dropAll();
  await until(() => seen.status.includes('waiting'), 2000, 'waiting');
  m.stop();
  assert.equal(seen.status.at(-1), 'closed');
});
