// Shutdown: SIGTERM/SIGINT flush pending writes; SIGKILL never leaves a torn file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { assertCleanExit, pretty, readText, saveInPlace, setup, sleep } from '../lib/index.mjs';

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
    const start = snap.state.count;
    let sent = start;
    let sending = true;
    // A steady stream of patches, so the kill lands while changes are being
    // applied and written.
    const sender = (async () => {
      while (sending && c.ws.readyState === 1) {
        for (let k = 0; k < 5; k++) {
          sent++;
          c.send({ type: 'patch', name: 's', ops: [{ op: 'replace', path: '/count', value: sent }, { op: 'add', path: '/items/-', value: sent }], ref: sent });
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await c.next({ type: 'ack', ref: start + 1 });
    await sleep(5 + run * 5);
    await srv.kill();
    sending = false;
    await sender;
    await c.waitClosed();
    const acks = c.log.filter((m) => m.type === 'ack').map((m) => m.ref);
    const lastAck = acks.length ? Math.max(...acks) : start;
    const text = readText(f);
    assert.notEqual(text, null, `run ${run}: the file is gone`);
    let v;
    assert.doesNotThrow(() => { v = JSON.parse(text); }, `run ${run}: torn file ${JSON.stringify(text.slice(0, 200))}`);
    assert.equal(typeof v.count, 'number');
    // The file holds one of the states the server applied: start..sent, in order.
    assert.ok(v.count >= start && v.count <= sent, `run ${run}: count ${v.count} outside [${start}, ${sent}]`);
    assert.deepEqual(v.items, Array.from({ length: v.count }, (_, i) => i + 1), `run ${run}: not a state the server applied`);
    assert.equal(text, pretty(v), `run ${run}: the file is not in the mirror format`);
    t.diagnostic(`run ${run}: from ${start}: sent to ${sent}, last ack received ${lastAck}, file holds ${v.count}`);
  }
});
