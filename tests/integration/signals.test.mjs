// Shutdown: SIGTERM/SIGINT flush pending writes; SIGKILL never leaves a torn file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { assertCleanExit, pretty, readText, saveInPlace, setup, sleep } from './harness.mjs';

for (const sig of ['SIGTERM', 'SIGINT']) {
  test(`${sig} right after a patch flushes the pending write`, async (t) => {
    const h = setup(t);
    const f = h.file('s.json', { a: 1, list: [] });
    const srv = await h.server({ files: [f], args: ['--write-delay', '2000'] });
    const c = await h.client(srv);
    await c.subscribe('s');
    await c.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }, { op: 'add', path: '/list/-', value: 'x' }]);
    assert.equal(readText(f), pretty({ a: 1, list: [] }), 'the write was not delayed by --write-delay');
    const r = await srv.signal(sig);
    assertCleanExit(srv, r);
    assert.equal(readText(f), pretty({ a: 2, list: ['x'] }));
    assert.deepEqual(fs.readdirSync(h.dir).filter((n) => n !== 's.json' && n.includes('s.json')), [], 'a temp file was left behind');
  });
}

test('stopped while the file is invalid with unsaved client changes: NAME.json.unsaved beside it', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  await c.subscribe('s');
  const invalid = '{"a": 1,,}\n';
  saveInPlace(f, invalid);
  assert.equal((await c.next({ type: 'error' })).code, 'file_invalid');
  await c.patchAcked('s', [{ op: 'add', path: '/b', value: 2 }]);
  await srv.stop();
  assert.equal(readText(f), invalid, 'the invalid file was overwritten');
  const unsaved = readText(f + '.unsaved');
  assert.notEqual(unsaved, null, `no ${'s.json.unsaved'} written; stderr:\n${srv.stderrTail()}`);
  assert.deepEqual(JSON.parse(unsaved), { a: 1, b: 2 });
  assert.match(srv.stderr, /s\.json\.unsaved/, 'the server did not say where the unsaved changes went');
});

test('SIGKILL during a burst of client patches never leaves a torn file (10 runs)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { count: 0, items: [] });
  for (let run = 0; run < 10; run++) {
    const srv = await h.server({ files: [f] });
    const c = await h.client(srv, { label: `run${run}` });
    const snap = await c.subscribe('s');
    const startCount = snap.state.count;
    let sent = 0;
    let lastAck = startCount;
    const N = 300;
    for (let i = 1; i <= N; i++) {
      c.send({ type: 'patch', name: 's', ops: [{ op: 'replace', path: '/count', value: startCount + i }, { op: 'add', path: '/items/-', value: startCount + i }], ref: startCount + i });
      sent = startCount + i;
      if (i === 20 + run * 25) {
        // Kill once some acks are in: part of the burst is in flight.
        await c.next({ type: 'ack', ref: startCount + 10 });
        await srv.kill();
        break;
      }
    }
    await c.closed;
    for (const m of c.log) if (m.type === 'ack') lastAck = Math.max(lastAck, m.ref);
    const text = readText(f);
    assert.notEqual(text, null, `run ${run}: the file is gone`);
    let v;
    assert.doesNotThrow(() => { v = JSON.parse(text); }, `run ${run}: torn file ${JSON.stringify(text.slice(0, 200))}`);
    assert.equal(typeof v.count, 'number');
    assert.ok(v.count >= startCount && v.count <= sent, `run ${run}: count ${v.count} outside [${startCount}, ${sent}]`);
    assert.deepEqual(v.items, Array.from({ length: v.count }, (_, i) => i + 1), `run ${run}: not a state the server applied`);
    assert.equal(text, pretty(v), `run ${run}: the file is not in the mirror format`);
    t.diagnostic(`run ${run}: sent ${sent - startCount}, last ack ${lastAck}, file count ${v.count}`);
    await sleep(10);
  }
});
