// The file mirror: every save style, echo suppression, formatting, invalid
// files, deletion, mode and symlinks, atomic writes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import {
  QUIET, applyPatch, pretty, readText, request, saveDeleteRecreate, saveInPlace, saveMoveIn,
  saveTruncateThenWrite, saveViaRename, saveWithSed, setup, sleep, waitFor, waitForFile,
} from '../lib/index.mjs';

const START = { title: 'x', count: 1, list: [1, 2], nested: { deep: { on: false } } };
// Each step is a text substitution an agent makes on the current file.
const STEPS = [
  { from: '"count": 1', to: '"count": 2', ops: [{ op: 'replace', path: '/count', value: 2 }] },
  { from: '"title": "x"', to: '"title": "y"', ops: [{ op: 'replace', path: '/title', value: 'y' }] },
  { from: '"on": false', to: '"on": true', ops: [{ op: 'replace', path: '/nested/deep/on', value: true }] },
];

const STYLES = {
  'in-place write': (h, f, text) => saveInPlace(f, text),
  'temp file then rename': (h, f, text) => saveViaRename(f, text),
  'sed -i': (h, f, text, step) => saveWithSed(f, `s/${step.from}/${step.to}/`),
  'truncate, pause, write on one fd': (h, f, text) => saveTruncateThenWrite(f, text, 100),
  'delete and recreate': (h, f, text) => saveDeleteRecreate(f, text),
  'mv in from another directory': (h, f, text) => saveMoveIn(f, text, h.path('elsewhere')),
};

for (const [style, save] of Object.entries(STYLES)) {
  test(`agent save by ${style}: exactly one patch with origin file per save, no echo`, async (t) => {
    const h = setup(t);
    const f = h.file('s.json', START);
    const srv = await h.server({ files: [f] });
    const a = await h.client(srv);
    const b = await h.client(srv);
    await a.subscribe('s');
    await b.subscribe('s');
    let text = pretty(START);
    let state = START;
    let version = 1;
    for (const step of STEPS) {
      text = text.replace(step.from, step.to);
      state = JSON.parse(text);
      version++;
      await save(h, f, text, step);
      for (const c of [a, b]) {
        const p = await c.next({ type: 'patch' });
        assert.equal(p.origin, 'file');
        assert.equal(p.name, 's');
        assert.equal(p.version, version);
        assert.deepEqual(p.ops, step.ops);
      }
      for (const c of [a, b]) {
        await c.expectNone({ type: 'patch' }, c === a ? QUIET : 0);
        await c.expectNone({ type: 'error', code: 'file_invalid' }, 0);
        assert.deepEqual(c.replica('s').state, state);
      }
      // The agent's file is already the state: the server does not rewrite it.
      assert.equal(readText(f), text);
    }
    // The mirror still works the other way.
    const ack = await a.patchAcked('s', [{ op: 'replace', path: '/count', value: 3 }]);
    assert.equal(ack.version, version + 1);
    await waitForFile(f, pretty({ ...state, count: 3 }));
  });
}

test('echo suppression: the server\'s own writes produce no file patch and spend no version', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 0 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  for (let i = 1; i <= 5; i++) {
    const ack = await a.patchAcked('s', [{ op: 'replace', path: '/a', value: i }]);
    assert.equal(ack.version, i + 1);
    const p = await b.next({ type: 'patch' });
    assert.equal(p.origin, `client:${a.id}`);
    await waitForFile(f, pretty({ a: i }));
  }
  await a.expectNone({ type: 'patch' });
  await b.expectNone({ type: 'patch' }, 0);
  const ack = await b.patchAcked('s', [{ op: 'replace', path: '/a', value: 99 }]);
  assert.equal(ack.version, 7, 'an echo of a server write spent a version');
  await waitForFile(f, pretty({ a: 99 }));
  await b.expectNone({ type: 'patch' });
});

test('an agent rewriting the file with the same state (any layout) produces no patch', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1, b: [1, 2] });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  await a.subscribe('s');
  saveInPlace(f, pretty({ a: 1, b: [1, 2] }));
  saveViaRename(f, '{"a":1,"b":[1,2]}');
  await a.expectNone({ type: 'patch' });
  assert.equal(readText(f), '{"a":1,"b":[1,2]}');
  assert.equal((await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }])).version, 2);
});

test('a compact file is not reformatted until a change must be saved', async (t) => {
  const h = setup(t);
  const compact = '{"a":1,"b":[1,2],"c":{"d":"e"}}';
  const f = h.file('s.json', compact);
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const snap = await a.subscribe('s');
  assert.deepEqual(snap.state, { a: 1, b: [1, 2], c: { d: 'e' } });
  await sleep(QUIET);
  assert.equal(readText(f), compact, 'file reformatted on subscribe');

  const compact2 = '{"a":2,"b":[1,2],"c":{"d":"e"}}';
  saveInPlace(f, compact2);
  const p = await a.next({ type: 'patch' });
  assert.deepEqual(p.ops, [{ op: 'replace', path: '/a', value: 2 }]);
  await sleep(QUIET);
  assert.equal(readText(f), compact2, 'file reformatted after an agent edit');

  await a.patchAcked('s', [{ op: 'add', path: '/b/-', value: 3 }]);
  await waitForFile(f, pretty({ a: 2, b: [1, 2, 3], c: { d: 'e' } }));
});

test('invalid JSON from the agent: file_invalid to all, file never overwritten, fix merges both sides', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1, b: 2 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');

  const invalid = '{\n  "a": 1\n  "b": 2\n}\n'; // missing comma: fails at line 3, column 3
  saveInPlace(f, invalid);
  for (const c of [a, b]) {
    const e = await c.next({ type: 'error' });
    assert.equal(e.code, 'file_invalid');
    assert.equal(e.name, 's');
    assert.equal(e.line, 3);
    assert.equal(e.column, 3);
    assert.equal(e.text, '  "b": 2');
    assert.ok(typeof e.file === 'string' && e.file.endsWith('s.json'), `file field: ${e.file}`);
    assert.equal(typeof e.message, 'string');
  }
  await waitFor(() => /s\.json/.test(srv.stderr) && /\b3:3\b|line 3\D+column 3|line 3\D+col 3/i.test(srv.stderr), {
    message: 'the file_invalid report with line 3, column 3 on stderr',
  });
  // A client change meanwhile: acked, broadcast, kept in memory; the file is untouched.
  const ack = await a.patchAcked('s', [{ op: 'add', path: '/c', value: 3 }]);
  assert.equal(ack.version, 2);
  const p = await b.next({ type: 'patch' });
  assert.equal(p.origin, `client:${a.id}`);
  assert.deepEqual(p.ops, [{ op: 'add', path: '/c', value: 3 }]);
  await sleep(QUIET);
  assert.equal(readText(f), invalid, 'the invalid file was overwritten');
  // The API shows where the file is broken.
  const st = (await request(srv, '/_mirrorstate/api/states')).json.states.find((x) => x.name === 's');
  assert.equal(st.status, 'invalid', JSON.stringify(st));
  assert.equal(st.error?.line, 3, JSON.stringify(st));
  assert.equal(st.error?.column, 3, JSON.stringify(st));

  // The agent fixes the file, changing another key (it never saw /c).
  saveInPlace(f, pretty({ a: 10, b: 2 }));
  for (const c of [a, b]) {
    const fp = await c.next({ type: 'patch' });
    assert.equal(fp.origin, 'file');
    assert.equal(fp.version, 3);
    assert.deepEqual(fp.ops, [{ op: 'replace', path: '/a', value: 10 }]);
    assert.deepEqual(c.replica('s').state, { a: 10, b: 2, c: 3 });
    const ok = await c.next({ code: 'file_ok' });
    assert.equal(ok.name, 's');
  }
  await waitForFile(f, pretty({ a: 10, b: 2, c: 3 }));
  const st2 = (await request(srv, '/_mirrorstate/api/states')).json.states.find((x) => x.name === 's');
  assert.equal(st2.status, 'ok', JSON.stringify(st2));
  const d = await h.client(srv);
  assert.deepEqual(await d.subscribe('s'), { type: 'snapshot', name: 's', version: 3, state: { a: 10, b: 2, c: 3 } });
  await a.expectNone({ type: 'error', code: 'file_invalid' });
});

test('a transient empty file inside the settle window is not reported as invalid', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], args: ['--settle', '1000'] });
  const a = await h.client(srv);
  await a.subscribe('s');
  for (let i = 2; i <= 4; i++) {
    fs.writeFileSync(f, ''); // `: > f` ...
    fs.writeFileSync(f, pretty({ a: i })); // ... then the content, quickly
    const p = await a.next({ type: 'patch' });
    assert.deepEqual(p.ops, [{ op: 'replace', path: '/a', value: i }]);
  }
  await a.expectNone({ type: 'error' });
  await a.expectNone({ type: 'patch' }, 0);
  assert.equal(readText(f), pretty({ a: 4 }));
});

test('an empty file that stays empty past the settle window is reported, then fixed', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], args: ['--settle', '20'] });
  const a = await h.client(srv);
  await a.subscribe('s');
  fs.writeFileSync(f, '');
  const e = await a.next({ type: 'error' });
  assert.equal(e.code, 'file_invalid');
  assert.equal(e.line, 1);
  assert.equal(e.column, 1);
  await sleep(QUIET);
  assert.equal(readText(f), '');
  fs.writeFileSync(f, pretty({ a: 2 }));
  const p = await a.next({ type: 'patch' });
  assert.deepEqual(p.ops, [{ op: 'replace', path: '/a', value: 2 }]);
});

test('file deleted while serving: file_removed, state still served, next change recreates it', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  const b = await h.client(srv);
  await a.subscribe('s');
  await b.subscribe('s');
  fs.unlinkSync(f);
  for (const c of [a, b]) {
    const e = await c.next({ type: 'error' });
    assert.equal(e.code, 'file_removed');
    assert.equal(e.name, 's');
  }
  await sleep(QUIET);
  assert.equal(readText(f), null, 'the server recreated a deleted file without a change');
  const st = (await request(srv, '/_mirrorstate/api/states')).json.states.find((x) => x.name === 's');
  assert.equal(st.status, 'removed', JSON.stringify(st));
  const r = await request(srv, '/_mirrorstate/api/states/s');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { a: 1 });
  const c = await h.client(srv);
  const snap = await c.subscribe('s');
  assert.equal(snap.version, 1);
  assert.deepEqual(snap.state, { a: 1 });
  await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  assert.deepEqual((await b.next({ type: 'patch' })).ops, [{ op: 'replace', path: '/a', value: 2 }]);
  await waitForFile(f, pretty({ a: 2 }));
  await a.expectNone({ type: 'patch' });
});

test('the file keeps its mode, and writes are atomic (a new inode)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  fs.chmodSync(f, 0o640);
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  await a.subscribe('s');
  const before = fs.statSync(f);
  await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  await waitForFile(f, pretty({ a: 2 }));
  const after = fs.statSync(f);
  assert.equal((after.mode & 0o7777).toString(8), '640');
  assert.notEqual(after.ino, before.ino, 'the file was written in place, not by rename');
  // No temp file is left beside it.
  await sleep(QUIET);
  assert.deepEqual(fs.readdirSync(h.dir).filter((n) => n !== 's.json' && n.includes('s.json')), []);
});

test('a symlinked file is written through: the target is updated, the link stays a link', async (t) => {
  const h = setup(t);
  const target = h.file('real/target.json', { a: 1 });
  const link = h.path('s.json');
  fs.symlinkSync('real/target.json', link);
  const srv = await h.server({ files: [link] });
  const a = await h.client(srv);
  assert.deepEqual((await a.subscribe('s')).state, { a: 1 });
  await a.patchAcked('s', [{ op: 'replace', path: '/a', value: 2 }]);
  await waitForFile(target, pretty({ a: 2 }));
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link was replaced by a regular file');
  assert.equal(fs.readlinkSync(link), 'real/target.json');
  await a.expectNone({ type: 'patch' });
});

test('an agent edit through the symlink is seen', async (t) => {
  const h = setup(t);
  h.file('real/target.json', { a: 1 });
  const link = h.path('s.json');
  fs.symlinkSync('real/target.json', link);
  const srv = await h.server({ files: [link] });
  const a = await h.client(srv);
  await a.subscribe('s');
  saveInPlace(link, pretty({ a: 5 })); // writes the target through the link
  const p = await a.next({ type: 'patch' });
  assert.equal(p.origin, 'file');
  assert.deepEqual(p.ops, [{ op: 'replace', path: '/a', value: 5 }]);
  assert.ok(fs.lstatSync(link).isSymbolicLink());
});

test('a reader never sees a torn or half-written file', async (t) => {
  const h = setup(t);
  const blob = 'x'.repeat(64 * 1024);
  const f = h.file('s.json', { n: 0, blob });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  await a.subscribe('s');
  let reads = 0;
  let stop = false;
  const reader = (async () => {
    while (!stop) {
      const text = readText(f);
      if (text !== null) {
        const v = JSON.parse(text); // throws on a torn file
        assert.equal(v.blob.length, blob.length);
        reads++;
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  const N = 60;
  for (let i = 1; i <= N; i++) {
    a.send({ type: 'patch', name: 's', ops: [{ op: 'replace', path: '/n', value: i }, { op: 'replace', path: '/blob', value: String(i % 10).repeat(blob.length) }], ref: i });
  }
  for (let i = 1; i <= N; i++) await a.next({ type: 'ack', ref: i });
  await waitForFile(f, (text) => { try { return JSON.parse(text).n === N; } catch { return false; } });
  stop = true;
  await reader;
  assert.ok(reads > 0);
  assert.equal(readText(f), pretty({ n: N, blob: String(N % 10).repeat(blob.length) }));
});

test('number formatting follows JavaScript (shortest round trip)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { n: 0 });
  const srv = await h.server({ files: [f] });
  const a = await h.client(srv);
  await a.subscribe('s');
  const values = [0.1, 1e-7, 1e21, 123456789012, -0.5, 5e-324, 1.7976931348623157e308, 0.30000000000000004, 100, -0, 2 ** 53];
  const state = { n: values, s: 'quote " backslash \\ newline \n tab \t unicode é \u2028 ctrl \u0001' };
  a.set('s', state, { ref: 1 });
  await a.next({ type: 'ack' });
  const text = await waitForFile(f, (t2) => t2 !== pretty({ n: 0 }));
  assert.equal(text, pretty(state));
  // And back: the agent writes those numbers, clients receive the same values.
  const st2 = { n: [1e-7, 1e21, 0.1] };
  saveInPlace(f, pretty(st2));
  const p = await a.next({ type: 'patch' });
  assert.equal(p.origin, 'file');
  assert.deepEqual(applyPatch(state, p.ops), st2);
  assert.deepEqual(a.replica('s').state, st2);
});
