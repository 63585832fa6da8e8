// Clients that vanish: mid-handshake, mid-frame, mid-fragmented message,
// mid-payload of a huge frame; and thousands of connect/disconnect cycles.
// The server must stay up, keep serving, and hold no descriptor or memory
// for clients that are gone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, waitFor, sleep, fdCount, rssKiB } from '../lib/index.mjs';
import { CYCLES, rawUpgrade, frameHeader, mask } from './lib.mjs';

async function settleFds(pid, want, timeout = 8000) {
  let n;
  await waitFor(() => (n = fdCount(pid)) <= want, { timeout, message: `descriptors back to ${want} (now ${n})` }).catch(() => {});
  return fdCount(pid);
}

test('clients that disconnect mid-handshake or mid-frame leave no trace', async (t) => {
  const h = setup(t);
  const file = h.file('state.json', { a: 1 });
  const srv = await h.server({ files: [file] });
  const pid = srv.proc.pid;
  const warm = await h.client(srv);
  await warm.subscribe('state');
  const base = fdCount(pid);
  const sub = Buffer.from(JSON.stringify({ type: 'subscribe', name: 'state' }));
  const patch = Buffer.from(JSON.stringify({ type: 'patch', name: 'state', ops: [{ op: 'replace', path: '/a', value: 99 }] }));
  const cases = {
    'half an upgrade request': async () => (await rawUpgrade(srv.port, { upgradeBytes: 40 })),
    'a frame header only': async () => { const s = await rawUpgrade(srv.port); s.write(frameHeader(patch.length).subarray(0, 3)); return s; },
    'half a payload': async () => { const s = await rawUpgrade(srv.port); s.write(Buffer.concat([frameHeader(patch.length), mask(patch).subarray(0, 20)])); return s; },
    'a 30 MB frame announced, 1 KB sent': async () => { const s = await rawUpgrade(srv.port); s.write(Buffer.concat([frameHeader(30 << 20), Buffer.alloc(1024)])); return s; },
    'the first fragment of a message': async () => { const s = await rawUpgrade(srv.port); s.write(Buffer.concat([frameHeader(10, { fin: false }), mask(patch.subarray(0, 10))])); return s; },
    'a subscribe, then half a patch': async () => { const s = await rawUpgrade(srv.port); s.write(Buffer.concat([frameHeader(sub.length), mask(sub), frameHeader(patch.length), mask(patch).subarray(0, 7)])); return s; },
  };
  for (const [name, open] of Object.entries(cases)) {
    for (let i = 0; i < 10; i++) {
      const s = await open();
      await sleep(i % 3);
      if (i % 2) s.destroy(); else s.resetAndDestroy();
    }
    assert.equal(srv.exit, null, `server died after "${name}"`);
  }
  // Nothing half-sent was applied, and the server still works.
  const c = await h.client(srv);
  const snap = await c.subscribe('state');
  assert.deepEqual(snap.state, { a: 1 });
  await c.patchAcked('state', [{ op: 'replace', path: '/a', value: 2 }]);
  await waitFor(() => warm.replica('state').state?.a === 2, { message: 'broadcast after the aborted clients' });
  c.close();
  const after = await settleFds(pid, base);
  assert.ok(after <= base, `descriptors leaked: ${base} before, ${after} after`);
});

test(`${CYCLES} connect/disconnect cycles: no descriptor or memory growth`, { timeout: 120000 }, async (t) => {
  const h = setup(t);
  const file = h.file('state.json', { items: Array.from({ length: 50 }, (_, i) => ({ id: i, text: 'x'.repeat(20) })) });
  const srv = await h.server({ files: [file] });
  const pid = srv.proc.pid;
  const watcher = await h.client(srv);
  await watcher.subscribe('state');
  const batch = 10;
  const cycle = async (i) => {
    const c = await h.client(srv, { label: `cycle${i}` });
    if (i % 2 === 0) await c.subscribe('state');
    if (i % 7 === 0) await c.patchAcked('state', [{ op: 'replace', path: `/items/${i % 50}/text`, value: `c${i}` }]);
    if (i % 3 === 0) { c.ws.close(1000); await c.waitClosed(); } else c.close();
  };
  const run = async (from, to) => {
    for (let i = from; i < to; i += batch) await Promise.all(Array.from({ length: Math.min(batch, to - i) }, (_, k) => cycle(i + k)));
  };
  const warmup = Math.min(200, CYCLES);
  await run(0, warmup);
  const fd0 = await settleFds(pid, fdCount(pid));
  const rss0 = rssKiB(pid);
  await run(warmup, CYCLES);
  const fd1 = await settleFds(pid, fd0);
  const rss1 = rssKiB(pid);
  console.log(`# ${CYCLES} cycles: descriptors ${fd0} -> ${fd1}, RSS ${rss0} -> ${rss1} KiB`);
  assert.ok(fd1 <= fd0, `descriptors leaked: ${fd0} -> ${fd1}`);
  assert.ok(rss1 - rss0 < 16 * 1024, `RSS grew by ${rss1 - rss0} KiB over ${CYCLES - warmup} cycles`);
  // The server still serves the one client left.
  await watcher.patchAcked('state', [{ op: 'replace', path: '/items/0/text', value: 'end' }]);
  const r = await fetch(`${srv.http}/_mirrorstate/api/states/state`);
  assert.equal((await r.json()).items[0].text, 'end');
  assert.equal(srv.exit, null);
});
