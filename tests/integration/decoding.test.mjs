// URLs are decoded exactly once: JSON Pointers in `?pointer=` and state
// names in the path reach the state as they were meant, whatever they hold
// ('+', '&', '%', '~', '/', '?', '#', spaces, UTF-8), over the CLI and over
// the HTTP API. A second decoding would turn "/a+b" into "/a b", "%41"
// into "A", and "/p%q" into a malformed pointer.
import assert from 'node:assert/strict';
import test from 'node:test';
import { request, runCli, setup } from './harness.mjs';

const CLEAN_ENV = { MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' };

// Keys that a second decoding, or reading '+' as a space twice, would
// change, and the pointer that names each.
const KEYS = {
  'a+b': '/a+b',
  'a b': '/a b',
  'x&y': '/x&y',
  'p%q': '/p%q',
  '%41': '/%41',
  '%2B': '/%2B',
  '%%': '/%%',
  'q?m': '/q?m',
  'h#s': '/h#s',
  'k=v': '/k=v',
  's;t': '/s;t',
  't~e': '/t~0e',
  's/l': '/s~1l',
  'é ü': '/é ü',
  '日本': '/日本',
  '': '/',
};

function state() {
  const s = {};
  let i = 1;
  for (const k of Object.keys(KEYS)) s[k] = i++;
  // Decoys: what a second decoding of the keys above would find instead.
  s.A = 'decoy A';
  s['+'] = 'decoy +';
  return s;
}

test('the CLI reads the value of a key holding + & % ~ / ? # = ; spaces or UTF-8', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', state());
  const srv = await h.server({ files: [f] });
  const want = state();
  const wrong = [];
  for (const [key, ptr] of Object.entries(KEYS)) {
    const r = await runCli(['--url', srv.http, 'get', 's', ptr], { env: CLEAN_ENV });
    const got = r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${r.stderr.trim()}`;
    if (got !== JSON.stringify(want[key])) wrong.push(`${JSON.stringify(ptr)}: ${got}, want ${want[key]}`);
  }
  assert.deepEqual(wrong, []);
});

test('the CLI writes the key a pointer names, and reads it back', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', state());
  const srv = await h.server({ files: [f] });
  const wrong = [];
  for (const [key, ptr] of Object.entries(KEYS)) {
    const set = await runCli(['--url', srv.http, 'set', 's', ptr, JSON.stringify(`new ${key}`)], { env: CLEAN_ENV });
    if (set.code !== 0) wrong.push(`set ${ptr}: exit ${set.code}: ${set.stderr.trim()}`);
  }
  const r = await request(srv, '/_mirrorstate/api/states/s');
  for (const key of Object.keys(KEYS)) {
    if (r.json[key] !== `new ${key}`) wrong.push(`${JSON.stringify(key)} is ${JSON.stringify(r.json[key])}`);
  }
  assert.equal(r.json.A, 'decoy A');
  assert.equal(r.json['+'], 'decoy +');
  assert.deepEqual(wrong, []);
});

test('HTTP: ?pointer= is decoded once; a literal + in a query is a space', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', state());
  const srv = await h.server({ files: [f] });
  const want = state();
  const wrong = [];
  for (const [key, ptr] of Object.entries(KEYS)) {
    const r = await request(srv, `/_mirrorstate/api/states/s?pointer=${encodeURIComponent(ptr)}`);
    if (r.status !== 200 || r.json !== want[key]) wrong.push(`${JSON.stringify(ptr)}: ${r.status} ${r.body}`);
  }
  assert.deepEqual(wrong, []);
  // As in every form-encoded query, '+' stands for a space.
  let r = await request(srv, '/_mirrorstate/api/states/s?pointer=/a+b');
  assert.equal(r.json, want['a b'], r.body);
  // An encoded '&' or ';' is part of the value, never a separator.
  r = await request(srv, '/_mirrorstate/api/states/s?pointer=/x%26y&pad=1');
  assert.equal(r.json, want['x&y'], r.body);
  r = await request(srv, '/_mirrorstate/api/states/s?pointer=/s%3Bt');
  assert.equal(r.json, want['s;t'], r.body);
});

test('HTTP: a state name in the path is decoded once', async (t) => {
  const h = setup(t);
  h.file('d/A.json', { is: 'A' });
  h.file('d/a+b.json', { is: 'a+b' });
  h.file('d/a b.json', { is: 'a b' });
  h.file('d/sub/x.json', { is: 'sub/x' });
  const srv = await h.server({ dir: h.path('d') });
  const cases = [
    ['A', 200, 'A'],
    ['%41', 200, 'A'], // one decoding of %41 is A
    ['%2541', 404, null], // "%41" is not a valid name; decoded twice it would be "A"
    ['a%2Bb', 200, 'a+b'],
    ['a%252Bb', 404, null], // "a%2Bb", not "a+b"
    ['a%20b', 200, 'a b'],
    ['sub%2Fx', 200, 'sub/x'],
    ['sub/x', 200, 'sub/x'],
  ];
  const wrong = [];
  for (const [p, status, is] of cases) {
    const r = await request(srv, `/_mirrorstate/api/states/${p}`);
    if (r.status !== status || (is && r.json?.is !== is)) wrong.push(`${p}: ${r.status} ${r.body}`);
    if (!is && r.json?.code !== 'unknown_state') wrong.push(`${p}: ${r.body}`);
  }
  assert.deepEqual(wrong, []);
  for (const name of ['A', 'a+b', 'a b', 'sub/x']) {
    const r = await runCli(['--url', srv.http, 'get', name], { env: CLEAN_ENV });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { is: name });
  }
  // NAME/history under --dir is NAME's history, not a state "NAME/history".
  const r = await request(srv, `/_mirrorstate/api/states/${encodeURIComponent('a+b')}/history`);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.type, 'history');
  assert.equal(r.json.name, 'a+b');
  const hist = await runCli(['--url', srv.http, 'history', 'A'], { env: CLEAN_ENV });
  assert.equal(hist.code, 0, hist.stderr);
  const list = await request(srv, '/_mirrorstate/api/states');
  assert.deepEqual(list.json.states.map((s) => s.name).sort(), ['A', 'a b', 'a+b', 'sub/x']);
});

test('HTTP: the query of a redirect is encoded again, once', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const r = await request(srv, '/_mirrorstate?x=%26%2B%25&y=a+b');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, '/_mirrorstate/?x=%26%2B%25&y=a%20b');
});
