import { test } from 'node:test';
import assert from 'node:assert/strict';
import { produce } from '../src/draft.js';
import { applyPatch } from '../src/patch.js';

const check = (base, recipe) => {
  const frozen = JSON.stringify(base);
  const out = produce(base, recipe);
  assert.equal(JSON.stringify(base), frozen, 'base untouched');
  assert.deepEqual(applyPatch(base, out.ops), out.value, 'ops replay to the value');
  return out;
};

test('assignments become replace and add; delete becomes remove', () => {
  const { value, ops } = check({ count: 1, user: { name: 'a' } }, (d) => {
    d.count++;
    d.user.name = 'b';
    d.user.age = 3;
    delete d.count;
  });
  assert.deepEqual(value, { user: { name: 'b', age: 3 } });
  assert.deepEqual(ops, [
    { op: 'replace', path: '/count', value: 2 },
    { op: 'replace', path: '/user/name', value: 'b' },
    { op: 'add', path: '/user/age', value: 3 },
    { op: 'remove', path: '/count' },
  ]);
});

test('push appends with the "-" index', () => {
  const { ops } = check({ items: [{ id: 1 }] }, (d) => { d.items.push({ id: 2 }, { id: 3 }); });
  assert.deepEqual(ops, [
    { op: 'add', path: '/items/-', value: { id: 2 } },
    { op: 'add', path: '/items/-', value: { id: 3 } },
  ]);
  const { ops: ops2 } = check({ a: [] }, (d) => { d.a[d.a.length] = 1; });
  assert.deepEqual(ops2, [{ op: 'add', path: '/a/-', value: 1 }]);
});

test('reads see earlier writes, nested objects are drafts too', () => {
  const { value, ops } = check({ items: [{ id: 1, done: false }, { id: 2, done: false }] }, (d) => {
    d.items.find((t) => t.id === 2).done = true;
    assert.equal(d.items[1].done, true);
    assert.equal(d.items.filter((t) => t.done).length, 1);
    assert.deepEqual(Object.keys(d.items[0]), ['id', 'done']);
    assert.equal(JSON.stringify(d.items[1]), '{"id":2,"done":true}');
    assert.ok(Array.isArray(d.items));
  });
  assert.deepEqual(ops, [{ op: 'replace', path: '/items/1/done', value: true }]);
  assert.equal(value.items[0].done, false);
});

test('splice, pop, shift, sort and length give small patches', () => {
  const base = { a: [1, 2, 3, 4, 5] };
  assert.deepEqual(check(base, (d) => { d.a.splice(1, 1); }).ops, [{ op: 'remove', path: '/a/1' }]);
  assert.deepEqual(check(base, (d) => { d.a.pop(); }).ops, [{ op: 'remove', path: '/a/4' }]);
  assert.deepEqual(check(base, (d) => { d.a.shift(); }).ops, [{ op: 'remove', path: '/a/0' }]);
  assert.deepEqual(check(base, (d) => { d.a.unshift(0); }).ops, [{ op: 'add', path: '/a/0', value: 0 }]);
  assert.deepEqual(check(base, (d) => { d.a.length = 3; }).ops,
    [{ op: 'remove', path: '/a/4' }, { op: 'remove', path: '/a/3' }]);
  assert.deepEqual(check(base, (d) => { d.a.reverse(); }).value.a, [5, 4, 3, 2, 1]);
  assert.deepEqual(check({ a: [3, 1, 2] }, (d) => { d.a.sort(); }).value.a, [1, 2, 3]);
  const removed = [];
  check({ a: [{ x: 1 }, { x: 2 }] }, (d) => { removed.push(...d.a.splice(0, 1)); });
  assert.deepEqual(removed, [{ x: 1 }]);
});

test('returning a value replaces; primitives and no-ops', () => {
  assert.deepEqual(check({ a: 1 }, () => ({ b: 2 })).ops, [
    { op: 'remove', path: '/a' }, { op: 'add', path: '/b', value: 2 }]);
  assert.deepEqual(check(5, (n) => n + 1), { value: 6, ops: [{ op: 'replace', path: '', value: 6 }] });
  assert.deepEqual(check({ a: 1, b: { c: 2 } }, (d) => { d.a = 1; d.b = { c: 2 }; }).ops, []);
  assert.deepEqual(check(undefined, () => ({ x: [] })).ops, [{ op: 'replace', path: '', value: { x: [] } }]);
});

test('values are copied as JSON; drafts assigned elsewhere are read through', () => {
  const { value } = check({ a: { n: 1 }, list: [] }, (d) => {
    d.b = d.a;
    d.a.n = 2;
    d.when = new Date(0);
    d.u = undefined;
    d.list.push({ f() {}, k: 1 });
  });
  assert.deepEqual(value, { a: { n: 2 }, list: [{ k: 1 }], b: { n: 1 }, when: '1970-01-01T00:00:00.000Z' });
});

test('keys that need escaping', () => {
  const { ops } = check({}, (d) => { d['a/b'] = 1; d['t~'] = 2; });
  assert.deepEqual(ops.map((o) => o.path), ['/a~1b', '/t~0']);
});
