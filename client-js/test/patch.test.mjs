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

function casesOf(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.tests)) return data.tests;
  if (data && Array.isArray(data.cases)) return data.cases;
  return [data];
}

test('shared patch fixtures', { skip: fixtureFiles.length === 0 && 'no fixtures in tests/fixtures/patch' }, () => {
  let ran = 0;
  for (const f of fixtureFiles) {
    const data = JSON.parse(readFileSync(join(fixtureDir, f), 'utf8'));
    casesOf(data).forEach((c, i) => {
      if (!c || c.disabled) return;
      const label = `${f} #${i}${c.comment ? ` (${c.comment})` : ''}${c.name ? ` (${c.name})` : ''}`;
      const ops = c.patch ?? c.ops;
      if (ops === undefined) return;
      const doc = c.doc ?? c.document ?? c.before;
      const errorExpected = c.error ?? c.fails ?? c.code;
      if (errorExpected !== undefined && errorExpected !== false) {
        assert.throws(() => applyPatch(doc, ops), (e) => {
          if (!(e instanceof PatchError)) return false;
          const want = String(c.code ?? c.error);
          if (want === 'conflict' || want === 'invalid_patch' || want === 'invalid') {
            return e.code === (want === 'invalid' ? 'invalid_patch' : want);
          }
          return true;
        }, label);
      } else {
        const want = c.expected ?? c.result ?? c.after;
        if (want === undefined) { applyPatch(doc, ops); ran++; return; }
        assert.deepEqual(applyPatch(doc, ops), want, label);
        if (c.diff !== false && doc !== undefined) {
          assert.deepEqual(applyPatch(doc, diff(doc, want)), want, `${label}: diff`);
        }
      }
      ran++;
    });
  }
  assert.ok(ran > 0, 'fixtures held no cases');
});
