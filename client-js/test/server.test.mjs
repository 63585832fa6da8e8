// The client core against the real server binary ($MIRRORSTATE_BIN, default
// build/mirrorstate): file round trips, convergence of two clients, file
// errors, and reconnect/resend across a server restart on the same port.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { connect } from '../src/client.js';
import {
  agentWrite, pretty, readJSON, removeDir, rng, sleep, startServer, stopServer, tempDir, until,
} from '../../tests/lib/index.mjs';

let dir;
const servers = [];
const mirrors = [];
before(() => { dir = tempDir('mirrorstate-client-'); });
after(async () => {
  for (const m of mirrors) m.close();
  for (const s of servers) await stopServer(s);
  removeDir(dir);
});

async function setup(name, state, extra = []) {
  const file = path.join(dir, `${name}.json`);
  if (state !== undefined) fs.writeFileSync(file, pretty(state));
  const s = await startServer({ files: [file], args: extra });
  servers.push(s);
  const open = () => {
    const m = connect({ url: `ws://127.0.0.1:${s.port}/_mirrorstate/ws`, WebSocket, reconnect: { minDelay: 20, maxDelay: 200 } });
    mirrors.push(m);
    return m;
  };
  return { file, server: s, open };
}

test('updates reach the file; file edits reach the client', async () => {
  const { file, open } = await setup('roundtrip', { count: 0, items: [] });
  const m = open();
  const s = m.state('roundtrip');
  await s.ready;
  assert.deepEqual(s.get(), { count: 0, items: [] });
  for (let i = 0; i < 10; i++) s.update((d) => { d.count++; d.items.push(i); });
  await s.settled();
  await until(() => readJSON(file)?.count === 10, 'count 10 in the file');
  assert.deepEqual(readJSON(file).items, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(fs.readFileSync(file, 'utf8'), pretty(s.get()));

  const patches = [];
  s.on('patch', (p) => patches.push(p));
  agentWrite(file, pretty({ count: 99, items: [], note: 'from disk' }));
  await until(() => s.get().count === 99, 'file edit on the client');
  assert.deepEqual(s.get(), { count: 99, items: [], note: 'from disk' });
  assert.equal(patches.at(-1).origin, 'file');
});

test('initial creates a missing file', async () => {
  const { file, open } = await setup('created');
  const m = open();
  const s = m.state('created', { initial: { hello: 'world' } });
  await s.ready;
  assert.equal(s.exists, true);
  await until(() => readJSON(file)?.hello === 'world', 'the file created');
});

test('two clients with concurrent updates converge, nothing lost', async () => {
  const { file, open } = await setup('pair', { a: 0, b: 0, log: [] });
  const [m1, m2] = [open(), open()];
  const [s1, s2] = [m1.state('pair'), m2.state('pair')];
  await Promise.all([s1.ready, s2.ready]);
  for (let i = 0; i < 20; i++) {
    s1.update((d) => { d.a++; d.log.push(`one ${i}`); });
    s2.update((d) => { d.b++; d.log.push(`two ${i}`); });
    if (i % 3 === 0) await sleep(0);
  }
  await Promise.all([s1.settled(), s2.settled()]);
  await until(() => s1.get().log.length === 40 && s2.get().log.length === 40, 'both see 40 entries');
  assert.deepEqual(s1.get(), s2.get());
  assert.equal(s1.get().a, 20);
  assert.equal(s1.get().b, 20);
  await until(() => readJSON(file)?.log?.length === 40, 'the file has all 40');
  assert.deepEqual(readJSON(file), s1.get());
});

test('file_invalid and file_ok reach the handle', async () => {
  const { file, open } = await setup('broken', { ok: true });
  const m = open();
  const s = m.state('broken');
  await s.ready;
  const seen = [];
  s.on('error', (e) => seen.push(e && e.code));
  agentWrite(file, '{\n  "ok": tru\n}\n');
  await until(() => s.error?.code === 'file_invalid', 'file_invalid');
  assert.equal(s.error.line, 2);
  assert.equal(typeof s.error.column, 'number');
  agentWrite(file, pretty({ ok: false }));
  await until(() => s.error === null && s.get().ok === false, 'file_ok and the fixed value');
  assert.deepEqual(seen, ['file_invalid', null]);
});

test('server restart on the same port: pending changes are re-sent, nothing lost', async () => {
  const { file, server, open } = await setup('restart', { items: [{ id: 1 }], flag: false });
  const m = open();
  const s = m.state('restart');
  await s.ready;
  const sessions = [];
  m.on('hello', (h) => sessions.push(h));
  s.update((d) => { d.items.push({ id: 2 }); });
  await s.settled();

  assert.equal(await stopServer(server), 0);
  await until(() => m.status !== 'open', 'the client sees the server go');
  s.update((d) => { d.items.push({ id: 3 }); d.flag = true; });   // made while the server is down
  s.update((d) => { d.items.push({ id: 4 }); });
  assert.equal(s.pending > 0, true);

  const again = await startServer({ files: [file], port: server.port });
  servers.push(again);
  await until(() => m.status === 'open' && sessions.length > 0, 'reconnected');
  assert.equal(sessions.at(-1).restarted, true);
  await s.settled();
  await until(() => readJSON(file)?.items?.length === 4, 'all four items in the file');
  assert.deepEqual(readJSON(file), { items: [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }], flag: true });
  assert.deepEqual(s.get(), readJSON(file));
});

function quietConsole() {
  const saved = { warn: console.warn, error: console.error };
  const calls = [];
  console.warn = (...a) => calls.push(a.map(String).join(' '));
  console.error = (...a) => calls.push(a.map(String).join(' '));
  return { calls, restore: () => Object.assign(console, saved) };
}

// Several clients making random accepted and refused changes (strings with
// U+0000, which the server refuses as bad_message) while the file is edited:
// once quiet, every client equals the file, and every increment counted.
async function property(seed) {
  const rand = rng(seed);
  const pick = (n) => Math.floor(rand() * n);
  const name = `prop${seed}`;
  const { file, open } = await setup(name, { count: 0, keys: {}, list: [] });
  const handles = [open(), open(), open()].map((mm) => mm.state(name));
  await Promise.all(handles.map((h) => h.ready));
  let increments = 0;
  const c = quietConsole();
  try {
    for (let step = 0; step < 80; step++) {
      const h = handles[pick(handles.length)];
      switch (pick(8)) {
        case 0: case 1: h.update((d) => { d.count++; }); increments++; break;
        case 2: h.update((d) => { d.keys[`k${pick(4)}`] = pick(100); }); break;
        case 3: h.update((d) => { d.list.push(pick(10)); if (d.list.length > 20) d.list.splice(0, 5); }); break;
        case 4: case 5: h.update((d) => { d.keys.bad = `x\u0000${pick(9)}`; }); break; // refused
        case 6: {
          const cur = readJSON(file);
          if (cur) agentWrite(file, pretty({ ...cur, keys: { file: pick(9) } }));
          break;
        }
        default: await sleep(pick(5)); break;
      }
      if (pick(3) === 0) await sleep(0);
    }
    await until(() => handles.every((h) => h.pending === 0), `seed ${seed}: every change answered`);
    await until(() => {
      const f = readJSON(file);
      return f && handles.every((h) => JSON.stringify(h.get()) === JSON.stringify(f));
    }, `seed ${seed}: every client equals the file`);
  } finally {
    c.restore();
  }
  return { file, handles, increments };
}

// Needs the server to put ref and name on every error and to check
// "strict" (docs/protocol.md).
test('property: random accepted and refused changes and file edits converge, every increment counted', async () => {
  for (const seed of [21, 22, 23]) {
    const { file, increments } = await property(seed);
    assert.equal(readJSON(file).count, increments, `seed ${seed}: every increment counted`);
  }
});
