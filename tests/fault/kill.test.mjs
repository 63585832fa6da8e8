// SIGKILL at random points of a write-heavy run. After every kill the file
// must parse and hold, byte for byte, one of the states the client's changes
// went through (or the initial one): never a torn, empty or mixed file.
// Every tenth round the server is restarted on that file and must serve it.
//
// FAULT_KILLS rounds (30 in the smoke run, 300 in the full one);
// FAULT_SEED=N replays a run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setup, pretty, sleep, applyPatch, readText, rng, seedFromEnv } from '../lib/index.mjs';
import { KILLS } from './lib.mjs';

test(`SIGKILL during writes, ${KILLS} times: the file is always a whole, seen state`, { timeout: 60000 + KILLS * 3000 }, async (t) => {
  const seed = seedFromEnv('FAULT_SEED');
  console.log(`# kill test seed ${seed} (rerun with FAULT_SEED=${seed})`);
  const r = rng(seed);
  const h = setup(t);
  const file = h.path('state.json');
  // A state big enough that writes take a while: kills land inside them.
  const initial = { items: Array.from({ length: 400 }, (_, i) => ({ id: i, text: `item ${i} `.repeat(8), done: false })), n: 0 };
  fs.writeFileSync(file, pretty(initial));
  let state = initial;
  let kills = 0, midWrite = 0, restarts = 0, leftovers = 0;
  for (let round = 0; round < KILLS; round++) {
    const delay = r.pick([0, 0, 1, 5]);
    const srv = await h.server({ files: [file], args: ['--write-delay', String(delay)] });
    const c = await h.client(srv, { label: `k${round}` });
    const snap = await c.subscribe('state');
    if (round % 10 === 9) {
      // The restarted server serves what the file holds.
      assert.deepEqual(snap.state, JSON.parse(readText(file)), `round ${round}: restart does not serve the file`);
      restarts++;
    }
    state = snap.state;
    const seen = new Set([pretty(state)]);
    const stopAt = Date.now() + 20 + r.int(250);
    let sent = 0;
    while (Date.now() < stopAt) {
      const i = r.int(state.items.length + 1);
      let ops;
      switch (r.int(4)) {
        case 0: ops = [{ op: 'replace', path: '/n', value: state.n + 1 }]; break;
        case 1: ops = i < state.items.length ? [{ op: 'replace', path: `/items/${i}/done`, value: !state.items[i].done }] : [{ op: 'add', path: '/items/-', value: { id: 1000 + sent, text: 'new', done: false } }]; break;
        case 2: ops = [{ op: 'add', path: '/items/-', value: { id: 100000 + round * 10000 + sent, text: 'x'.repeat(r.int(200)), done: false } }]; break;
        default: ops = state.items.length > 50 ? [{ op: 'remove', path: `/items/${r.int(state.items.length)}` }] : [{ op: 'replace', path: '/n', value: -state.n }];
      }
      state = applyPatch(state, ops);
      seen.add(pretty(state));
      c.patch('state', ops);
      sent++;
      if (sent % 8 === 0) await sleep(r.int(3));
    }
    // A moment for writes to be under way, then the kill.
    await sleep(r.int(15));
    const st = fs.statSync(file);
    await srv.kill();
    kills++;
    const text = readText(file);
    assert.ok(text !== null, `round ${round} (seed ${seed}): the file is gone`);
    let parsed;
    try { parsed = JSON.parse(text); } catch (e) {
      assert.fail(`round ${round} (seed ${seed}): torn file after SIGKILL: ${e.message}\n${text.slice(0, 200)}`);
    }
    assert.ok(seen.has(text), `round ${round} (seed ${seed}): the file holds a state no client produced (${text.length} bytes)`);
    if (fs.statSync(file).mtimeMs !== st.mtimeMs) midWrite++;
    state = parsed;
    // Leftover temporary files from a write cut short: counted, then removed.
    for (const n of fs.readdirSync(h.dir)) if (n.includes('.mirrorstate-')) { leftovers++; fs.unlinkSync(h.path(n)); }
    c.close();
  }
  console.log(`# kills: ${kills}, restarts checked: ${restarts}, file changed in the last ms before a kill: ${midWrite}, temp files left by kills: ${leftovers}, data lost: 0`);
});
