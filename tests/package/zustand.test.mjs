// mirrorstate-client/zustand, installed from the packed tarball, in Node
// against the real binary: a zustand store and its state file stay equal
// both ways; the store's functions never reach the file; JSON rules apply;
// the store's initial data creates a missing file; a file that is not an
// object leaves the store alone, with one warning. (The same middleware in
// Chromium under Vite: vite.test.mjs.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { agentWrite, pretty, readJSON, removeDir, startServer, stopServer, tempDir, until } from '../lib/index.mjs';
import { makeApp, pack } from './lib.mjs';

let packed, made, server, createStore, mirror, connect;
const mirrors = [];

before(async () => {
  packed = pack(tempDir('mirrorstate-pack-'));
  made = makeApp(packed.tarball);
  const require = createRequire(path.join(made.app, 'package.json'));
  const load = async (id) => import(pathToFileURL(require.resolve(id)).href);
  ({ createStore } = await load('zustand/vanilla'));
  ({ mirror } = await load('mirrorstate-client/zustand'));
  ({ connect } = await load('mirrorstate-client'));
  fs.mkdirSync(path.join(made.dir, 'states'));
  server = await startServer({ dir: path.join(made.dir, 'states') });
});

after(async () => {
  for (const m of mirrors) m.close();
  await stopServer(server);
  made?.cleanup();
  if (packed) removeDir(path.dirname(packed.tarball));
});

const stateFile = (name) => path.join(made.dir, 'states', `${name}.json`);
const open = () => {
  const m = connect({ url: `ws://127.0.0.1:${server.port}/_mirrorstate/ws`, WebSocket });
  mirrors.push(m);
  return m;
};
const dataOf = (s) => Object.fromEntries(Object.entries(s).filter(([, v]) => typeof v !== 'function'));

function todoStore(name, m) {
  return createStore()(mirror(name, (set) => ({
    items: [],
    filter: 'all',
    add: (text) => set((s) => ({ items: [...s.items, { text, done: false }] })),
    toggle: (i) => set((s) => ({ items: s.items.map((t, j) => (j === i ? { ...t, done: !t.done } : t)) })),
    setFilter: (filter) => set({ filter }),
  }), { mirror: m }));
}

test('the file\'s value comes in; store changes go out; file edits come in; actions stay', async () => {
  agentWrite(stateFile('todo'), pretty({ items: [{ text: 'milk', done: false }], filter: 'open' }));
  await until(async () => (await fetch(`${server.url}api/states/todo`)).status === 200, 'the server has the file');
  const store = todoStore('todo', open());
  await until(() => store.getState().items.length === 1, 'the file\'s items in the store');
  assert.deepEqual(dataOf(store.getState()), readJSON(stateFile('todo')));

  store.getState().add('eggs');
  store.getState().toggle(0);
  store.getState().setFilter('done');
  await until(() => readJSON(stateFile('todo'))?.filter === 'done' && readJSON(stateFile('todo')).items.length === 2, 'the changes in the file');
  assert.deepEqual(readJSON(stateFile('todo')), { items: [{ text: 'milk', done: true }, { text: 'eggs', done: false }], filter: 'done' });
  assert.ok(!fs.readFileSync(stateFile('todo'), 'utf8').includes('add'), 'no function in the file');

  const edited = { items: [{ text: 'bread', done: false }], filter: 'all', note: 'from the agent' };
  agentWrite(stateFile('todo'), pretty(edited));
  await until(() => store.getState().note === 'from the agent', 'the file edit in the store');
  assert.deepEqual(dataOf(store.getState()), edited, 'exactly the file\'s data, keys removed too');
  assert.equal(typeof store.getState().add, 'function', 'actions survive');
  store.getState().add('jam');
  await until(() => readJSON(stateFile('todo'))?.items?.length === 2, 'an action after the edit reaches the file');
  assert.deepEqual(readJSON(stateFile('todo')).items[1], { text: 'jam', done: false });
});

test('two stores on one state (two tabs) converge; each keeps its actions', async () => {
  const a = todoStore('shared', open());
  const b = todoStore('shared', open());
  await until(() => fs.existsSync(stateFile('shared')), 'the initial data creates the file');
  assert.deepEqual(readJSON(stateFile('shared')), { items: [], filter: 'all' });
  a.getState().add('from a');
  await until(() => b.getState().items.length === 1, 'a\'s change in b');
  b.getState().add('from b');
  await until(() => a.getState().items.length === 2, 'b\'s change in a');
  await until(() => readJSON(stateFile('shared'))?.items?.length === 2, 'both in the file');
  assert.deepEqual(dataOf(a.getState()), dataOf(b.getState()));
  assert.deepEqual(dataOf(a.getState()), readJSON(stateFile('shared')));
});

test('values are stored as JSON: Dates become strings, undefined keys are dropped', async () => {
  const m = open();
  const store = createStore()(mirror('json', () => ({ when: null, gone: 1 }), { mirror: m }));
  await m.state('json').ready;
  store.setState({ when: new Date(Date.UTC(2026, 0, 2)), gone: undefined });
  await until(() => readJSON(stateFile('json'))?.when === '2026-01-02T00:00:00.000Z', 'the date in the file');
  assert.deepEqual(readJSON(stateFile('json')), { when: '2026-01-02T00:00:00.000Z' });
});

test('a file that is not an object leaves the store alone, with one warning', async () => {
  agentWrite(stateFile('list'), '[1, 2, 3]\n');
  await until(async () => (await fetch(`${server.url}api/states/list`)).status === 200, 'the server has the file');
  const warnings = [];
  const warn = console.warn;
  console.warn = (...a) => warnings.push(a.join(' '));
  try {
    const m = open();
    const store = createStore()(mirror('list', () => ({ n: 1 }), { mirror: m }));
    await m.state('list').ready;
    agentWrite(stateFile('list'), '[1, 2, 3, 4]\n');
    await until(() => m.state('list').get()?.length === 4, 'the change arrived');
    assert.deepEqual(dataOf(store.getState()), { n: 1 });
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /the state "list" holds an array, not an object/);
  } finally {
    console.warn = warn;
  }
});

test('without a page and without a mirror option the store is a plain store', () => {
  const store = createStore()(mirror('ssr', (set) => ({ n: 1, inc: () => set((s) => ({ n: s.n + 1 })) })));
  store.getState().inc();
  assert.equal(store.getState().n, 2);
  assert.ok(!fs.existsSync(stateFile('ssr')));
  assert.throws(() => mirror('', () => ({})), /name must be a non-empty string/);
});
