// Limits: message size, pending output, state size.
import assert from 'node:assert/strict';
import test from 'node:test';
import { pretty, readText, setup, waitFor, waitForFile } from '../lib/index.mjs';

test('--max-message: an oversized message gets too_large and close 1009; others keep being served', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], args: ['--max-message', '1000'] });
  const big = await h.client(srv, { label: 'big' });
  const other = await h.client(srv, { label: 'other' });
  await big.subscribe('s');
  await other.subscribe('s');
  // Just under the limit is fine.
  const okValue = 'y'.repeat(800);
  await big.patchAcked('s', [{ op: 'add', path: '/ok', value: okValue }], { ref: 1 });
  await other.next({ type: 'patch' });

  big.send({ type: 'patch', name: 's', ops: [{ op: 'add', path: '/huge', value: 'x'.repeat(2000) }], ref: 2 });
  const e = await big.next((m) => m.type === 'error' || m.type === 'ack');
  assert.equal(e.type, 'error');
  assert.equal(e.code, 'too_large');
  const closed = await big.waitClosed();
  assert.equal(closed.code, 1009);
  await other.expectNone({ type: 'patch' }, 0);

  // The server keeps serving: the other client, and new connections.
  await other.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  const c = await h.client(srv, { label: 'new' });
  assert.deepEqual((await c.subscribe('s')).state, { a: 2, ok: okValue });
  await waitForFile(f, pretty({ a: 2, ok: okValue }));
});

test('--max-message: a message sent in many fragments is measured as a whole', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], args: ['--max-message', '1000'] });
  const other = await h.client(srv, { label: 'other' });
  await other.subscribe('s');
  const sendFragmented = (c, text, chunk) => {
    for (let i = 0; i < text.length; i += chunk) c.ws.send(text.slice(i, i + chunk), { fin: i + chunk >= text.length });
  };
  // Under the limit, a fragmented message is reassembled and applied.
  const small = await h.client(srv, { label: 'small' });
  sendFragmented(small, JSON.stringify({ type: 'patch', name: 's', ops: [{ op: 'add', path: '/small', value: 'y'.repeat(500) }], ref: 0 }), 200);
  assert.equal((await small.next((m) => m.type === 'error' || m.type === 'ack')).type, 'ack');
  await other.next({ type: 'patch' });
  // Over the limit, whatever the fragment size: too_large, then close 1009.
  for (const chunk of [200, 1000, 500]) {
    const big = await h.client(srv, { label: `big-${chunk}` });
    sendFragmented(big, JSON.stringify({ type: 'patch', name: 's', ops: [{ op: 'add', path: '/huge', value: 'x'.repeat(3000) }], ref: 1 }), chunk);
    const closed = await big.waitClosed();
    const errors = big.log.filter((m) => m.type === 'error');
    assert.deepEqual(errors.map((m) => m.code), ['too_large'], `fragments of ${chunk} bytes: errors received ${JSON.stringify(errors)}, close ${JSON.stringify(closed)}`);
    assert.equal(closed.code, 1009, `fragments of ${chunk} bytes: close ${JSON.stringify(closed)}`);
  }
  await other.expectNone({ type: 'patch' });
  await other.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
});

test('a large state (several MB) round-trips through a client and the file', async (t) => {
  const h = setup(t);
  const rows = Array.from({ length: 20000 }, (_, i) => ({ id: i, name: `row ${i}`, v: i / 7 }));
  const f = h.file('s.json', { rows });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  assert.equal((await a.subscribe('s')).state.rows.length, rows.length);
  await b.subscribe('s');
  await a.patchAcked('s', [{ op: 'replace', path: '/rows/12345/name', value: 'changed' }]);
  const p = await b.next({ type: 'patch' });
  assert.deepEqual(p.ops, [{ op: 'replace', path: '/rows/12345/name', value: 'changed' }]);
  rows[12345].name = 'changed';
  await waitForFile(f, pretty({ rows }));
});

test('--max-pending: a client that stops reading is dropped; the others are unaffected', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { blob: '' });
  const srv = await h.server({ files: [f], args: ['--max-pending', '1000000'] });
  const slow = await h.client(srv, { label: 'slow' });
  const fast = await h.client(srv, { label: 'fast' });
  const writer = await h.client(srv, { label: 'writer' });
  await slow.subscribe('s');
  await fast.subscribe('s');
  await writer.subscribe('s');
  slow.ws._socket.pause(); // stop reading
  // 30 MB of changes, paced by the reading client so its own backlog stays
  // small; the one that stopped reading falls behind by far more than the
  // limit plus what the kernel buffers.
  // The server gives a dropped client 5 s to take its close frame: the
  // client reads again as soon as the drop is logged, however slow the
  // machine.
  const N = 300;
  const dropped = () => slow.closeInfo || /stopped reading/.test(srv.stderr);
  for (let i = 1; i <= N && !dropped(); i++) {
    await writer.patchAcked('s', [{ op: 'replace', path: '/blob', value: String(i % 10).repeat(100000) }]);
    const p = await fast.next({ type: 'patch' });
    assert.equal(p.version, i + 1);
  }
  slow.ws._socket.resume();
  const closed = await slow.waitClosed();
  assert.ok(slow.log.filter((m) => m.type === 'patch').length < N, 'the slow client was not dropped');
  await writer.patchAcked('s', [{ op: 'replace', path: '/blob', value: 'done' }]);
  assert.equal((await fast.next({ type: 'patch' })).ops[0].value, 'done');
  assert.match(srv.stderr, /slow|pending|stopped reading|dropp/i, 'the drop was not logged');
  // The reference: "it is closed with 1008". The client reads again right
  // after, so a close frame sent within a grace period reaches it.
  assert.equal(closed.code, 1008, `slow client closed with ${JSON.stringify(closed)}`);
});

test('--max-state: a change that would make the state larger is refused with too_large, nothing applied; the file stays as it was', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], args: ['--max-state', '200'] });
  const c = await h.client(srv);
  const other = await h.client(srv);
  await c.subscribe('s');
  await other.subscribe('s');
  // Over the limit as its file would be written: refused as a whole.
  const ref = c.patch('s', [{ op: 'replace', path: '/a', value: 2 }, { op: 'add', path: '/big', value: 'x'.repeat(300) }]);
  const e = await c.next((m) => m.type === 'error' && m.ref === ref);
  assert.equal(e.code, 'too_large');
  assert.equal(e.name, 's');
  assert.match(e.message, /max-state/);
  await other.expectNone({ type: 'patch' });
  assert.equal(readText(f), pretty({ a: 1 }), 'the file is untouched');
  // Under it: applied and written as usual.
  await c.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }, { op: 'add', path: '/small', value: 'x'.repeat(100) }]);
  await waitForFile(f, pretty({ a: 2, small: 'x'.repeat(100) }));
  assert.ok(Buffer.byteLength(readText(f)) <= 200);
});
