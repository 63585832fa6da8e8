// Nothing lost when an agent and the page act at once (docs/design.md,
// "Concurrency"):
// - a whole-file save is merged against what its writer read: a save made
//   on an older read keeps the click it never saw, and a value the agent
//   sets back after reading the newest file wins (rename and in-place);
// - no save is lost to a server write: 200 rounds of agent saves racing
//   client writes, with the agent reading the file right after each save
//   returned (a save absent from such a read for a moment is reported);
// - strict patches over the HTTP API.
//
// The agent's reads are real reads of the file (the server learns of them
// through its directory watch). Waiting for the server's write is done by
// the file's inode, which a stat shows without reading the file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import {
  setup, pretty, request, saveInPlace, saveViaRename, until, waitForFile, WAIT,
} from '../lib/index.mjs';

const SAVES = { rename: saveViaRename, 'in place': saveInPlace };

const inode = (file) => fs.statSync(file).ino;
const read = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

for (const [style, save] of Object.entries(SAVES)) {
  test(`${style}: a save made on an older read keeps the click it never saw; a value set back after reading the newest file wins`, async (t) => {
    const h = setup(t);
    const file = h.file('app.json', { clicks: 14, notes: [] });
    const srv = await h.server({ files: [file] });
    const c = await h.client(srv);
    await c.subscribe('app');

    // The agent reads the file, and thinks.
    const seen = read(file);
    // Meanwhile the user clicks, and the server writes clicks 15.
    const before = inode(file);
    await c.patchAcked('app', [{ op: 'replace', path: '/clicks', value: 15 }]);
    await until(() => inode(file) !== before, 'the click written to the file');
    // The agent saves its edit on what it read: clicks 14 and a note.
    save(file, pretty({ ...seen, notes: ['from the agent'] }));
    await until(() => c.replica('app').state.notes.length === 1, 'the save taken in');
    assert.deepEqual(c.replica('app').state, { clicks: 15, notes: ['from the agent'] }, 'the click the agent never saw is kept');
    await waitForFile(file, { clicks: 15, notes: ['from the agent'] });

    // Now it reads the newest file and sets the clicks back on purpose.
    const now = read(file);
    assert.equal(now.clicks, 15);
    save(file, pretty({ ...now, clicks: 14 }));
    await until(() => c.replica('app').state.clicks === 14, 'the set-back taken in');
    assert.deepEqual(c.replica('app').state, { clicks: 14, notes: ['from the agent'] });
    await waitForFile(file, { clicks: 14, notes: ['from the agent'] });

    // A save of the old read, unchanged (an editor writing back its stale
    // buffer), after another click: the click stays.
    const old = fs.readFileSync(file, 'utf8');
    const b2 = inode(file);
    await c.patchAcked('app', [{ op: 'replace', path: '/clicks', value: 16 }]);
    await until(() => inode(file) !== b2, 'the second click written');
    save(file, old.replace('"from the agent"', '"edited"'));
    await until(() => c.replica('app').state.notes[0] === 'edited', 'the edit taken in');
    assert.deepEqual(c.replica('app').state, { clicks: 16, notes: ['edited'] });
  });
}

// The agent, in a process of its own so that it races the server for real:
// ROUNDS times it reads the file, adds a note, saves it the way editors and
// agents' edit tools do (a new file renamed over the old one) and, as soon
// as the save returned, reads the file again and again for a few
// milliseconds. A read without the note is a save absent from the file for
// a moment: it must come back (the swap puts it back at once), and it is
// counted. Prints {vanished, reads}.
const AGENT = `
const fs = require('fs');
const [file, rounds] = [process.argv[1], Number(process.argv[2])];
const pause = new Int32Array(new SharedArrayBuffer(4));
let vanished = 0, reads = 0;
for (let i = 0; i < rounds; i++) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  doc.notes.push('n' + i);
  fs.writeFileSync(file + '.tmp', JSON.stringify(doc, null, 2) + '\\n');
  fs.renameSync(file + '.tmp', file);
  const mark = '"n' + i + '"';
  for (let k = 0, missed = false; k < 10; k++) {
    reads++;
    if (fs.readFileSync(file, 'utf8').includes(mark)) continue;
    if (!missed) vanished++;
    missed = true;
    // Back within the bound, or the next round's read would drop it.
    for (let w = 0; w < 5000 && !fs.readFileSync(file, 'utf8').includes(mark); w++) Atomics.wait(pause, 0, 0, 1);
  }
  Atomics.wait(pause, 0, 0, 1);
}
console.log(JSON.stringify({ vanished, reads }));
`;

// A save can be absent from the file for the two renames of the swap that
// puts it back (docs/design.md, "Concurrency"): that is counted and
// reported, not asserted. What is asserted holds whatever the timing.
test('200 rounds of agent saves racing client writes: no save and no click is lost', { timeout: 120000 }, async (t) => {
  const ROUNDS = 200;
  const h = setup(t);
  const file = h.file('race.json', { clicks: [], notes: [] });
  const srv = await h.server({ files: [file] });
  const c = await h.client(srv);
  await c.subscribe('race');

  const agent = spawn(process.execPath, ['-e', AGENT, file, String(ROUNDS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  agent.stdout.on('data', (d) => { out += d; });
  agent.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => agent.on('exit', resolve));
  let running = true;
  done.then(() => { running = false; });

  // The user clicks as fast as the server answers, each click appended.
  let clicks = 0;
  while (running) {
    await c.patchAcked('race', [{ op: 'add', path: '/clicks/-', value: clicks }]);
    clicks++;
  }
  await c.patchAcked('race', [{ op: 'add', path: '/clicks/-', value: clicks }]);
  clicks++;
  assert.equal(await done, 0, `the agent failed: ${err}`);
  const { vanished, reads } = JSON.parse(out);
  t.diagnostic(`${ROUNDS} saves, ${clicks} clicks, ${reads} reads right after a save; ${vanished} saves absent from a read for a moment`);

  const want = { clicks: [...Array(clicks).keys()], notes: [...Array(ROUNDS).keys()].map((i) => `n${i}`) };
  await waitForFile(file, want, WAIT).catch((e) => {
    const got = read(file);
    const lost = want.clicks.filter((x) => !got.clicks.includes(x));
    const notes = want.notes.filter((x) => !got.notes.includes(x));
    e.message = `lost ${lost.length} clicks (${lost.slice(0, 10)}) and ${notes.length} notes (${notes.slice(0, 10)})\n${e.message.slice(0, 400)}`;
    throw e;
  });
});

test('HTTP: a strict patch computed on a version that another change overlaps since is a conflict (409); elsewhere it applies', async (t) => {
  const h = setup(t);
  const file = h.file('app.json', { count: 0, other: 0 });
  const srv = await h.server({ files: [file] });
  const c = await h.client(srv);
  await c.subscribe('app');
  await c.patchAcked('app', [{ op: 'replace', path: '/count', value: 1 }]); // version 2
  const post = (body) => request(srv, '/_mirrorstate/api/states/app', { method: 'POST', body });
  // Computed on version 1, before the change to /count.
  let r = await post({ type: 'patch', base: 1, strict: true, ops: [{ op: 'replace', path: '/count', value: 1 }], ref: 'a' });
  assert.equal(r.status, 409);
  assert.equal(r.json.code, 'conflict');
  assert.equal(r.json.ref, 'a');
  assert.equal(r.json.name, 'app');
  // The same without strict is absolute, and applies.
  r = await post({ type: 'patch', base: 1, ops: [{ op: 'replace', path: '/other', value: 5 }] });
  assert.equal(r.status, 200);
  // Elsewhere than /count, computed on version 2: /other changed since, but
  // /count did not.
  r = await post({ type: 'patch', base: 2, strict: true, ops: [{ op: 'replace', path: '/count', value: 2 }] });
  assert.equal(r.status, 200);
  assert.equal(r.json.type, 'ack');
  // strict without base is malformed.
  r = await post({ type: 'patch', strict: true, ops: [] });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'bad_message');
  await waitForFile(file, { count: 2, other: 5 });
});
