import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { applyPatch, diff, getPointer, parsePointer, formatPointer, PatchError } from '../src/patch.js';

const here = dirname(fileURLToPath(import.meta.url));

test('add, remove, replace, move, copy, test', () => {
  const doc = { a: 1, b: [1, 2, 3], c: { d: 'x' } };
  const out = applyPatch(doc, [
    { op: 'add', path: '/e', value: true },
    { op: 'add', path: '/b/-', value: 4 },
    { op: 'add', path: '/b/0', value: 0 },
    { op: 'remove', path: '/a' },
    { op: 'replace', path: '/c/d', value: 'y' },
    { op: 'copy', from: '/c', path: '/f' },
    { op: 'move', from: '/e', path: '/c/e' },
    { op: 'test', path: '/b', value: [0, 1, 2, 3, 4] },
  ]);
  assert.deepEqual(out, { b: [0, 1, 2, 3, 4], c: { d: 'y', e: true }, f: { d: 'y' } });
  assert.deepEqual(doc, { a: 1, b: [1, 2, 3], c: { d: 'x' } }, 'input untouched');
});

test('apply is all-or-nothing and shares untouched subtrees', () => {
  const doc = { keep: { big: [1, 2] }, n: 1 };
  assert.throws(() => applyPatch(doc, [{ op: 'replace', path: '/n', value: 2 }, { op: 'remove', path: '/nope' }]),
    (e) => e instanceof PatchError && e.code === 'conflict' && e.index === 1);
  const out = applyPatch(doc, [{ op: 'replace', path: '/n', value: 2 }]);
  assert.equal(out.keep, doc.keep);
});

test('malformed ops are invalid_patch, failing ones conflict', () => {
  const inv = (ops) => assert.throws(() => applyPatch({ a: [1] }, ops), (e) => e.code === 'invalid_patch');
  const con = (ops) => assert.throws(() => applyPatch({ a: [1] }, ops), (e) => e.code === 'conflict');
  inv([{ op: 'frobnicate', path: '/a' }]);
  inv([{ op: 'add', path: 'a', value: 1 }]);
  inv([{ op: 'add', path: '/a' }]);
  inv([{ op: 'move', path: '/b' }]);
  inv([{ op: 'add', path: '/a~2', value: 1 }]);
  con([{ op: 'replace', path: '/b', value: 1 }]);
  con([{ op: 'add', path: '/a/5', value: 1 }]);
  con([{ op: 'add', path: '/a/01', value: 1 }]);
  con([{ op: 'remove', path: '/a/-' }]);
  con([{ op: 'test', path: '/a', value: [2] }]);
  con([{ op: 'move', from: '/a', path: '/a/0' }]);
});

test('pointers escape ~ and /, and "__proto__" is an ordinary key', () => {
  assert.deepEqual(parsePointer('/a~1b/c~0d/'), ['a/b', 'c~d', '']);
  assert.equal(formatPointer(['a/b', 'c~d']), '/a~1b/c~0d');
  const out = applyPatch({}, [{ op: 'add', path: '/__proto__', value: { x: 1 } }]);
  assert.deepEqual(Object.keys(out), ['__proto__']);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(getPointer({ a: [{ b: 2 }] }, '/a/0/b'), 2);
  assert.equal(getPointer({ a: [] }, '/a/0'), undefined);
});

test('diff yields small patches that apply', () => {
  const cases = [
    [{ a: 1, b: 2 }, { b: 3, c: 4 }],
    [[1, 2, 3, 4, 5], [1, 2, 9, 3, 4, 5]],
    [[1, 2, 3, 4, 5], [1, 2, 4, 5]],
    [{ items: [{ id: 1, done: false }] }, { items: [{ id: 1, done: true }] }],
    [1, 'x'],
    [{ a: [1] }, { a: { 0: 1 } }],
    [null, { a: 1 }],
  ];
  for (const [a, b] of cases) assert.deepEqual(applyPatch(a, diff(a, b)), b);
  assert.equal(diff([1, 2, 3, 4, 5], [1, 2, 9, 3, 4, 5]).length, 1);
  assert.equal(diff([1, 2, 3, 4, 5], [1, 2, 4, 5]).length, 1);
  assert.deepEqual(diff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
});

// The fixtures are shared with the C engine: every case runs through both.
const fixtureDir = join(here, '..', '..', 'tests', 'fixtures', 'patch');
const fixtureFiles = existsSync(fixtureDir) ? readdirSync(fixtureDir).filter((f) => f.endsWith('.json')) : [];

const load = (f) => JSON.parse(readFileSync(join(fixtureDir, f), 'utf8'));
const errorCode = (e) => (e === 'invalid' ? 'invalid_patch' : e);

// JSON.parse keeps only the last of repeated members, so a JavaScript engine
// cannot see that document as invalid (the fixture says as much).
const JS_CANNOT_SEE = new Set(['rfc6902-a13-duplicate-member.json']);

test('shared patch fixtures: apply', () => {
  assert.ok(fixtureFiles.length > 0, 'no fixtures in tests/fixtures/patch');
  let ran = 0;
  for (const f of fixtureFiles) {
    if (f === 'diff.json' || JS_CANNOT_SEE.has(f)) continue;
    for (const c of load(f)) {
      const label = `${f}: ${c.name}`;
      if (c.error !== undefined) {
        assert.throws(() => applyPatch(c.doc, c.patch),
          (e) => e instanceof PatchError && e.code === errorCode(c.error), label);
      } else {
        assert.deepEqual(applyPatch(c.doc, c.patch), c.expected, label);
        assert.deepEqual(applyPatch(c.doc, diff(c.doc, c.expected)), c.expected, `${label} (diff back)`);
      }
      ran++;
    }
  }
  assert.ok(ran > 0);
});

test('shared patch fixtures: diff gives the same ops as the C engine', () => {
  assert.ok(fixtureFiles.includes('diff.json'), 'no diff fixtures');
  for (const c of load('diff.json')) {
    const ops = diff(c.a, c.b);
    if (c.ops !== undefined) assert.deepEqual(ops, c.ops, c.name);
    assert.deepEqual(applyPatch(c.a, ops), c.b, `${c.name} (applies)`);
  }
});

// The public conformance suite (tests/fixtures/json-patch-tests, see its
// README): every case not marked disabled.
const suiteDir = join(here, '..', '..', 'tests', 'fixtures', 'json-patch-tests');

for (const file of ['tests.json', 'spec_tests.json']) {
  test(`json-patch-tests ${file}`, () => {
    const cases = JSON.parse(readFileSync(join(suiteDir, file), 'utf8'));
    let ran = 0;
    cases.forEach((c, i) => {
      if (c.disabled || !('doc' in c)) return;
      const label = `${file} #${i}: ${c.comment || c.error || JSON.stringify(c.patch)}`;
      if ('error' in c) {
        assert.throws(() => applyPatch(c.doc, c.patch), (e) => e instanceof PatchError, label);
      } else {
        const out = applyPatch(c.doc, c.patch);
        if ('expected' in c) assert.deepEqual(out, c.expected, label);
      }
      ran++;
    });
    assert.ok(ran >= (file === 'tests.json' ? 80 : 15), `${file}: ${ran} cases ran`);
  });
}
