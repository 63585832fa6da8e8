// What one client's patches can do to the server: crash it (depth), grow its
// memory (size, history), block its loop (quadratic work), spend versions
// on nothing, or get refused without learning which change it was.
//
// Hangs are caught by generous guards (the server must still answer
// /healthz, and stop on SIGTERM, within 15 s), never by timing thresholds.
// Memory is watched while waiting: a server whose resident memory passes a
// bound far above what the change needs is stopped and the test fails,
// instead of growing until the machine runs out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { BIN, WAIT, pretty, readText, request, runCli, setup, sleep, statusKiB, waitFor, waitForFile } from '../lib/index.mjs';

const HANG = 15000; // the loop must answer within this, whatever the patch
const range = (n) => Array.from({ length: n }, (_, i) => i);

/** Resident memory of the server in MB (VmRSS, or VmHWM for the peak). */
function rssMB(srv, field = 'VmRSS') {
  try {
    return (statusKiB(srv.proc.pid, field) || 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Waits for the answer (ack or error) to ref, failing early if the server's
 * memory passes limitMB or it dies.
 */
async function answer(c, srv, ref, { limitMB = 1024, timeout = 60000 } = {}) {
  const got = c.next((m) => (m.type === 'ack' || m.type === 'error') && m.ref === ref, timeout);
  got.catch(() => {});
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const mb = rssMB(srv);
      if (mb > limitMB) {
        srv.proc.kill('SIGKILL');
        throw new Error(`the server's memory grew to ${mb.toFixed(0)} MB (bound ${limitMB} MB) before it answered`);
      }
      if (srv.exit) throw new Error(`the server died before it answered: ${JSON.stringify(srv.exit)}\n${srv.stderrTail()}`);
      await sleep(20);
    }
  })();
  try {
    return await Promise.race([got, watch]);
  } finally {
    watching = false;
    await watch.catch(() => {});
  }
}

async function healthy(srv, timeout = HANG) {
  const r = await request(srv, '/_mirrorstate/healthz', { timeout });
  assert.equal(r.status, 200);
}

// ---------------------------------------------------------------- depth

test('19 copies of the state into itself, each one level deeper: too_large with ref and name, nothing applied, the server lives', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { x: {} });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  const other = await h.client(srv);
  await c.subscribe('s');
  await other.subscribe('s');
  const ops = [];
  for (let i = 0, p = '/x'; i < 19; i++, p += p) ops.push({ op: 'copy', from: '', path: p });
  c.send({ type: 'patch', name: 's', ops, ref: 'deep' });
  const e = await answer(c, srv, 'deep');
  assert.equal(e.type, 'error', JSON.stringify(e).slice(0, 300));
  assert.equal(e.code, 'too_large');
  assert.equal(e.name, 's');
  assert.match(e.message, /deeper than 1000/);
  await other.expectNone({ type: 'patch' });
  await healthy(srv);
  // Nothing applied; the state still takes changes; the file is untouched.
  const snap = await (await h.client(srv)).subscribe('s');
  assert.deepEqual(snap.state, { x: {} });
  assert.equal(snap.version, 1);
  assert.equal(readText(f), pretty({ x: {} }));
  await c.patchAcked('s', [{ op: 'add', path: '/y', value: 1 }]);
  await waitForFile(f, pretty({ x: {}, y: 1 }));
});

test('depth: every op that puts a value deeper (add, copy, move, replace) is held to 1000 levels; up to the limit is fine', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { b: { c: { z: {} } } });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  await c.subscribe('s');
  // A value 997 levels deep: with its envelope the message is 1000 deep,
  // as deep as the parser goes. At /a the state is 998 deep.
  let deep = {};
  for (let i = 1; i < 997; i++) deep = { a: deep };
  await c.patchAcked('s', [{ op: 'add', path: '/a', value: deep }]);
  // Two levels deeper is 1000: fine, and its innermost object sits 999
  // tokens down.
  await c.patchAcked('s', [{ op: 'copy', from: '/a', path: '/b/c/a' }]);
  const bottom = '/b/c/a' + '/a'.repeat(996);
  for (const op of [
    { op: 'copy', from: '/a', path: '/b/c/a/z' },
    { op: 'move', from: '/a', path: '/b/c/z/a' },
    { op: 'add', path: `${bottom}/x`, value: {} },
    { op: 'replace', path: bottom, value: [[]] },
    { op: 'copy', from: '/b', path: `${bottom}/x` },
  ]) {
    const ref = c.patch('s', [op]);
    const e = await answer(c, srv, ref);
    assert.equal(e.type, 'error', `${JSON.stringify(op).slice(0, 80)} was accepted`);
    assert.equal(e.code, 'too_large');
    assert.match(e.message, /deeper than 1000/);
  }
  // Scalars at the bottom, and containers that do not pass the limit, are fine.
  await c.patchAcked('s', [{ op: 'add', path: `${bottom}/x`, value: 1 }]);
  await c.patchAcked('s', [{ op: 'replace', path: bottom, value: [] }]);
  await healthy(srv);
  // The file the server writes is one it reads back.
  const innermost = (v) => { v = v.b.c.a; for (let i = 0; i < 996; i++) v = v.a; return v; };
  await waitFor(() => { try { return Array.isArray(innermost(JSON.parse(readText(f)))); } catch { return false; } }, { message: 'the deep file' });
  await srv.stop();
  const again = await h.server({ files: [f] });
  const d = await h.client(again);
  assert.ok(Array.isArray(innermost((await d.subscribe('s')).state)));
});

// ---------------------------------------------------------------- size

test('--max-state bounds the state in memory: 40 copies of the state into itself are refused at once, nothing applied, memory flat', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: '0123456789' });
  const srv = await h.server({ files: [f], args: ['--max-state', '1048576'] });
  const c = await h.client(srv);
  const other = await h.client(srv);
  await c.subscribe('s');
  await other.subscribe('s');
  c.send({ type: 'patch', name: 's', ops: range(40).map((i) => ({ op: 'copy', from: '', path: `/k${i}` })), ref: 'grow' });
  const e = await answer(c, srv, 'grow', { limitMB: 512 });
  assert.equal(e.type, 'error');
  assert.equal(e.code, 'too_large');
  assert.equal(e.name, 's');
  await other.expectNone({ type: 'patch' });
  await healthy(srv);
  assert.ok(rssMB(srv, 'VmHWM') < 512, `peak memory ${rssMB(srv, 'VmHWM')} MB`);
  assert.equal(readText(f), pretty({ a: '0123456789' }));
  // The same through the HTTP API: 413, nothing applied.
  const r = await request(srv, '/_mirrorstate/api/states/s', { method: 'POST', body: { type: 'patch', ops: range(40).map((i) => ({ op: 'copy', from: '', path: `/k${i}` })), ref: 9 } });
  assert.equal(r.status, 413, r.body);
  assert.equal(r.json.code, 'too_large');
  assert.equal(r.json.ref, 9);
  const snap = await (await h.client(srv)).subscribe('s');
  assert.deepEqual(snap.state, { a: '0123456789' });
});

test('--max-state: a set, or a subscribe init, larger than the limit is refused with too_large and its ref', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ dir: h.dir, args: ['--max-state', '300'] });
  const c = await h.client(srv);
  await c.subscribe('s');
  const ref = c.set('s', { a: 'x'.repeat(400) });
  const e = await answer(c, srv, ref);
  assert.equal(e.code, 'too_large');
  assert.equal(e.name, 's');
  // A new state whose init is too large is not created, and the sender hears why.
  c.send({ type: 'subscribe', name: 'fresh', init: { big: 'y'.repeat(400) }, ref: 'init-1' });
  const e2 = await c.next((m) => m.type === 'error' && m.ref === 'init-1');
  assert.equal(e2.code, 'too_large');
  assert.equal(e2.name, 'fresh');
  assert.equal((await c.next({ type: 'snapshot', name: 'fresh' })).exists, false);
  assert.equal(fs.existsSync(h.path('fresh.json')), false);
  assert.equal(readText(f), pretty({ a: 1 }));
});

test('--max-state: a file save whose merge with unsaved browser changes would pass the limit is reported and never overwritten', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  // A long write delay keeps the browser's change unsaved while the agent saves.
  const srv = await h.server({ files: [f], args: ['--max-state', '400', '--write-delay', '3000'] });
  const c = await h.client(srv);
  await c.subscribe('s');
  await c.patchAcked('s', [{ op: 'add', path: '/mine', value: 'm'.repeat(200) }]);
  const agentText = pretty({ a: 1, theirs: 't'.repeat(200) });
  fs.writeFileSync(f, agentText);
  const e = await c.next({ type: 'error', code: 'file_invalid' });
  assert.match(e.message, /max-state/);
  // Neither side's work is lost: the file keeps the agent's text, the
  // state keeps the browser's change.
  await sleep(3500);
  assert.equal(readText(f), agentText);
  const snap = await (await h.client(srv)).subscribe('s');
  assert.deepEqual(snap.state, { a: 1, mine: 'm'.repeat(200) });
  // A save that fits is merged and written as usual.
  fs.writeFileSync(f, pretty({ a: 2 }));
  await c.next({ type: 'error', code: 'file_ok' });
  await waitForFile(f, pretty({ a: 2, mine: 'm'.repeat(200) }), WAIT * 2);
});

// ---------------------------------------------------------------- linear work

test('100,000 "add /l/-" ops in one patch: acked, and the loop keeps answering meanwhile', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { l: [] });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  await c.subscribe('s');
  c.send({ type: 'patch', name: 's', ops: range(100000).map((i) => ({ op: 'add', path: '/l/-', value: i })), ref: 'append' });
  await sleep(300);
  await healthy(srv);
  const a = await answer(c, srv, 'append', { timeout: HANG });
  assert.equal(a.type, 'ack');
  await waitFor(() => { try { return JSON.parse(readText(f)).l.length === 100000; } catch { return false; } });
});

for (const [label, ops] of [
  ['100,000 replaces at scattered indices of a 100,000-item list', () => range(100000).map((i) => ({ op: 'replace', path: `/l/${(i * 7919) % 100000}`, value: -i }))],
  ['100,000 inserts into the middle of a 100,000-item list', () => range(100000).map((i) => ({ op: 'add', path: '/l/50000', value: i }))],
  ['50,000 moves across a 100,000-item list', () => range(50000).map((i) => ({ op: 'move', from: `/l/${(i * 7919) % 100000}`, path: `/l/${(i * 104729) % 99999}` }))],
]) {
  test(`${label}: the loop answers /healthz and SIGTERM stops the server while it works`, async (t) => {
    const h = setup(t);
    const f = h.file('s.json', { l: range(100000) });
    const srv = await h.server({ files: [f] });
    const c = await h.client(srv);
    await c.subscribe('s');
    c.send({ type: 'patch', name: 's', ops: ops(), ref: 'big' });
    await sleep(300);
    await healthy(srv);
    const a = await answer(c, srv, 'big', { timeout: HANG });
    assert.equal(a.type, 'ack', JSON.stringify(a));
    // The next one too, then SIGTERM right after sending it.
    c.send({ type: 'patch', name: 's', ops: ops(), ref: 'again' });
    await sleep(300);
    const r = await srv.signal('SIGTERM', HANG);
    assert.deepEqual(r, { code: 0, signal: null });
  });
}

test('a set that changes every element of a 100,000-item list is applied while the loop keeps answering', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { l: range(100000) });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  const other = await h.client(srv);
  await c.subscribe('s');
  await other.subscribe('s');
  const ref = c.set('s', { l: range(100000).map((i) => i + 1) });
  await sleep(300);
  await healthy(srv);
  const a = await answer(c, srv, ref, { timeout: HANG });
  assert.equal(a.type, 'ack');
  const p = await other.next({ type: 'patch' }, HANG);
  assert.equal(p.ops.length, 100000);
  await waitFor(() => { try { return JSON.parse(readText(f)).l[99999] === 100000; } catch { return false; } }, { timeout: HANG });
});

test('--max-ops: a patch with more operations than the cap is too_large with its ref; at the cap it applies (default 100,000)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { l: [] });
  const srv = await h.server({ files: [f], args: ['--max-ops', '1000'] });
  const c = await h.client(srv);
  await c.subscribe('s');
  const add = (n) => range(n).map((i) => ({ op: 'add', path: '/l/-', value: i }));
  c.send({ type: 'patch', name: 's', ops: add(1001), ref: 'over' });
  const e = await answer(c, srv, 'over');
  assert.equal(e.code, 'too_large');
  assert.equal(e.name, 's');
  assert.match(e.message, /max-ops/);
  await c.patchAcked('s', add(1000));
  const r = await request(srv, '/_mirrorstate/api/states/s', { method: 'POST', body: { type: 'patch', ops: add(1001), ref: 'http' } });
  assert.equal(r.status, 413);
  assert.equal(r.json.ref, 'http');
  // The default cap.
  const g = await h.file('g.json', { l: [] });
  const dflt = await h.server({ files: [g] });
  const d = await h.client(dflt);
  await d.subscribe('g');
  d.send({ type: 'patch', name: 'g', ops: range(100001).map(() => ({ op: 'test', path: '/l', value: [] })), ref: 'many' });
  assert.equal((await answer(d, dflt, 'many')).code, 'too_large');
});

// ---------------------------------------------------------------- history

test('--history-bytes: the history is held to its byte budget, the oldest entries going first', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { l: range(2000) });
  const srv = await h.server({ files: [f], args: ['--history-bytes', '8000000'] });
  const c = await h.client(srv);
  await c.subscribe('s');
  for (let k = 1; k <= 8; k++) {
    const ref = c.patch('s', range(2000).map((i) => ({ op: 'replace', path: `/l/${i}`, value: `v${k}-${i}` })));
    assert.equal((await answer(c, srv, ref)).type, 'ack');
  }
  const hist = await request(srv, '/_mirrorstate/api/states/s/history');
  const versions = hist.json.entries.map((e) => e.version);
  assert.ok(versions.length >= 1 && versions.length < 8, `held ${versions}`);
  assert.equal(versions[versions.length - 1], 9);
  // What is held is the newest, without a gap; an older version is gone.
  assert.deepEqual(versions, range(versions.length).map((i) => 10 - versions.length + i));
  c.send({ type: 'revert', name: 's', version: 2, ref: 'old' });
  assert.equal((await answer(c, srv, 'old')).code, 'unknown_version');
  c.send({ type: 'revert', name: 's', version: versions[0] - 1, ref: 'held' });
  assert.equal((await answer(c, srv, 'held')).type, 'ack');
});

test('the history does not grow memory without bound: patches of 20,000 ops each (default --history-bytes)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { l: range(20000) });
  // Freed memory parked in AddressSanitizer's quarantine is not the history.
  const srv = await h.server({ files: [f], env: { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || ''}:quarantine_size_mb=16` } });
  const c = await h.client(srv);
  await c.subscribe('s');
  // Each patch's ops and inverse take about 20 MB (more under ASan): the
  // growth per patch is measured on the first two, and twelve patches all
  // kept would take eleven times that. The history holds 64 MiB: three or
  // four of them.
  const peak = [];
  const N = 12;
  for (let k = 1; k <= N; k++) {
    const ref = c.patch('s', range(20000).map((i) => ({ op: 'replace', path: `/l/${i}`, value: k * i + k })));
    const a = await answer(c, srv, ref, { limitMB: 1000, timeout: 60000 });
    assert.equal(a.type, 'ack');
    peak.push(rssMB(srv, 'VmHWM'));
  }
  const perPatch = peak[1] - peak[0];
  assert.ok(perPatch > 5, `a patch held in the history takes memory (${perPatch} MB)`);
  assert.ok(peak[N - 1] < peak[0] + 6 * perPatch,
    `peak memory ${peak.map(Math.round).join(', ')} MB: more than six patches' worth held`);
  const hist = await request(srv, '/_mirrorstate/api/states/s/history');
  assert.ok(hist.json.entries.length < N, `${hist.json.entries.length} entries held`);
  assert.equal(hist.json.entries.at(-1).version, N + 1);
});

// ---------------------------------------------------------------- no-op changes

test('a change that changes nothing spends no version: tests only, the same value, a set of the same state (WebSocket, HTTP API, CLI)', async (t) => {
  const h = setup(t);
  const log = h.path('events.jsonl');
  const f = h.file('s.json', { a: 1, o: { x: [1, 2] } });
  const srv = await h.server({ files: [f], args: ['--log', log] });
  const c = await h.client(srv);
  const other = await h.client(srv);
  await c.subscribe('s');
  await other.subscribe('s');
  const before = fs.statSync(f).mtimeMs;
  for (const ops of [
    [{ op: 'test', path: '/a', value: 1 }],
    [{ op: 'replace', path: '/a', value: 1 }],
    [{ op: 'add', path: '/o', value: { x: [1, 2] } }],
    [{ op: 'move', from: '/o', path: '/o' }],
    [{ op: 'replace', path: '/o/x/1', value: 2 }, { op: 'test', path: '/o/x', value: [1, 2] }],
  ]) {
    const ack = await c.patchAcked('s', ops);
    assert.equal(ack.version, 1, `${JSON.stringify(ops)} spent a version`);
  }
  const ref = c.set('s', { a: 1, o: { x: [1, 2] } });
  assert.equal((await answer(c, srv, ref)).version, 1);
  const api = await request(srv, '/_mirrorstate/api/states/s', { method: 'POST', body: { type: 'patch', ops: [{ op: 'replace', path: '/a', value: 1 }], ref: 'api' } });
  assert.equal(api.status, 200);
  assert.deepEqual([api.json.type, api.json.version, api.json.ref], ['ack', 1, 'api']);
  const cli = await runCli(['set', 's', '/a', '1', '--url', srv.http], { env: { MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' } });
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).version, 1);
  // No broadcast, no history entry, no event, no write.
  await other.expectNone({ type: 'patch' });
  const hist = await request(srv, '/_mirrorstate/api/states/s/history');
  assert.deepEqual(hist.json.entries, []);
  assert.equal(fs.existsSync(log) ? readText(log).includes('"version":2') : false, false);
  assert.equal(fs.statSync(f).mtimeMs, before);
  // A real change still counts, once.
  assert.equal((await c.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }])).version, 2);
  assert.equal((await other.next({ type: 'patch' })).version, 2);
});

// ---------------------------------------------------------------- refusals reach the sender

test('a message the parser refuses still gets its ref and name back (\\u0000, a lone surrogate, nesting past the limit)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  await c.subscribe('s');
  const deep = '['.repeat(1005) + ']'.repeat(1005);
  for (const [raw, ref] of [
    ['{"type":"set","name":"s","ref":1,"state":{"t":"a\\u0000b"}}', 1],
    ['{"type":"patch","name":"s","ops":[{"op":"add","path":"/t","value":"\\ud800"}],"ref":"two"}', 'two'],
    [`{"type":"set","name":"s","state":${deep},"ref":{"n":3}}`, { n: 3 }],
    ['{"ref":[4],"type":"patch","name":"s","ops":[{"op":"add","path":"/\\udfff","value":1}]}', [4]],
  ]) {
    c.sendRaw(raw);
    const e = await c.next({ type: 'error' });
    assert.equal(e.code, 'bad_message');
    assert.deepEqual(e.ref, ref, `${raw.slice(0, 80)}: ${JSON.stringify(e)}`);
    assert.equal(e.name, 's');
  }
  // The connection stays usable.
  await c.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  // Over HTTP too, invalid UTF-8 included.
  for (const body of [
    Buffer.from('{"type":"set","state":"a\\u0000","ref":"h1"}'),
    Buffer.concat([Buffer.from('{"type":"set","state":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","ref":"h1"}')]),
  ]) {
    const r = await request(srv, '/_mirrorstate/api/states/s', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'bad_message');
    assert.equal(r.json.ref, 'h1');
    assert.equal(r.json.name, 's');
  }
});
