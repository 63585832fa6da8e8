// HTTP API, static files, Host/Origin checks on requests and upgrades.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { pretty, request, setup, waitForFile } from '../lib/index.mjs';

test('healthz answers 200 with JSON', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const r = await request(srv, '/_mirrorstate/healthz');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'] || '', /application\/json/);
  assert.equal(r.json?.ok, true, r.body);
  const c = await h.client(srv);
  assert.equal(r.json.session, c.hello.session);
  assert.equal(r.json.server, c.hello.server);
});

test('api/states lists states with versions; api/states/NAME returns the state', async (t) => {
  const h = setup(t);
  const f = h.file('todo.json', { items: [{ id: 1, text: 'milk' }] });
  const absent = h.path('later.json');
  const srv = await h.server({ files: [f, absent] });
  let r = await request(srv, '/_mirrorstate/api/states');
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.json?.states), r.body);
  const byName = Object.fromEntries(r.json.states.map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(byName).sort(), ['later', 'todo']);
  assert.equal(byName.todo.version, 1);
  assert.equal(byName.todo.exists, true);
  assert.equal(byName.todo.status, 'ok');
  assert.equal(byName.later.version, 0);
  assert.equal(byName.later.exists, false);

  r = await request(srv, '/_mirrorstate/api/states/todo');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { items: [{ id: 1, text: 'milk' }] });
  assert.equal(r.headers['x-mirrorstate-version'], '1');

  r = await request(srv, '/_mirrorstate/api/states/todo?pointer=/items/0/text');
  assert.equal(r.status, 200);
  assert.equal(r.json, 'milk');
  r = await request(srv, '/_mirrorstate/api/states/todo?pointer=/items/5');
  assert.equal(r.status, 404);

  // A change shows up in both.
  const c = await h.client(srv);
  await c.subscribe('todo');
  await c.patchAcked('todo', [{ op: 'add', path: '/items/-', value: { id: 2, text: 'eggs' } }]);
  r = await request(srv, '/_mirrorstate/api/states/todo');
  assert.equal(r.headers['x-mirrorstate-version'], '2');
  assert.equal(r.json.items.length, 2);
  r = await request(srv, '/_mirrorstate/api/states');
  assert.equal(r.json.states.find((s) => s.name === 'todo').version, 2);
});

test('unknown and absent states are 404 with an error object', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f, h.path('absent.json')] });
  for (const name of ['nope', 'absent', '..%2Fs', '%2Fetc%2Fpasswd']) {
    const r = await request(srv, `/_mirrorstate/api/states/${name}`);
    assert.equal(r.status, 404, `${name}: ${r.status} ${r.body}`);
    assert.equal(r.json?.type, 'error', `${name}: ${r.body}`);
  }
  const r = await request(srv, '/_mirrorstate/api/states/nope');
  assert.equal(r.json.code, 'unknown_state');
});

test('POST a patch to the API: ack, broadcast with origin api, written to the file', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const c = await h.client(srv);
  await c.subscribe('s');
  let r = await request(srv, '/_mirrorstate/api/states/s', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: { type: 'patch', ops: [{ op: 'replace', path: '/a', value: 2 }], ref: 'r1' },
  });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.type, 'ack');
  assert.equal(r.json.version, 2);
  const p = await c.next({ type: 'patch' });
  assert.equal(p.origin, 'api');
  assert.deepEqual(p.ops, [{ op: 'replace', path: '/a', value: 2 }]);
  await waitForFile(f, pretty({ a: 2 }));
  r = await request(srv, '/_mirrorstate/api/states/s', {
    method: 'POST', body: { type: 'patch', ops: [{ op: 'remove', path: '/zzz' }] },
  });
  assert.equal(r.status, 409, r.body);
  assert.equal(r.json.code, 'conflict');
});

// libwebsockets 4.1 cannot read chunked request bodies: such a POST gets a
// clear 411 instead of hanging, and nothing is applied (docs/protocol.md).
test('POST with a chunked request body gets 411 Length Required; nothing applied', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const body = JSON.stringify({ type: 'patch', ops: [{ op: 'replace', path: '/a', value: 2 }] });
  let r = await request(srv, '/_mirrorstate/api/states/s', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body,
  });
  assert.equal(r.status, 411, r.body);
  assert.equal(r.json.type, 'error');
  assert.match(r.json.message, /Content-Length/);
  r = await request(srv, '/_mirrorstate/api/states/s');
  assert.deepEqual(r.json, { a: 1 });
  assert.equal(fs.readFileSync(f, 'utf8'), pretty({ a: 1 }));
});

test('--static DIR is served at /', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const html = '<!doctype html><title>app</title><p>hello from the app</p>\n';
  fs.mkdirSync(h.path('www'));
  fs.writeFileSync(h.path('www', 'index.html'), html);
  fs.writeFileSync(h.path('www', 'app.js'), 'export const x = 1;\n');
  const srv = await h.server({ files: [f], args: ['--static', h.path('www')] });
  let r = await request(srv, '/');
  assert.equal(r.status, 200);
  assert.equal(r.body, html);
  assert.match(r.headers['content-type'] || '', /text\/html/);
  r = await request(srv, '/app.js');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'export const x = 1;\n');
  r = await request(srv, '/missing.html');
  assert.equal(r.status, 404);
  r = await request(srv, '/_mirrorstate/healthz');
  assert.equal(r.status, 200);
});

test('a foreign Host header is refused with 403 on the API and the WebSocket upgrade', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { secret: 1 });
  const srv = await h.server({ files: [f] });
  for (const host of ['evil.example', `evil.example:${srv.port}`]) {
    for (const p of ['/_mirrorstate/api/states', '/_mirrorstate/api/states/s']) {
      const r = await request(srv, p, { headers: { Host: host } });
      assert.equal(r.status, 403, `GET ${p} with Host ${host}: ${r.status} ${r.body}`);
      assert.doesNotMatch(r.body, /secret/);
    }
    const w = await h.attempt(srv, { headers: { Host: host } });
    assert.equal(w.status, 403, `upgrade with Host ${host}`);
  }
  // Loopback names pass.
  for (const host of [`localhost:${srv.port}`, `127.0.0.1:${srv.port}`, 'localhost']) {
    const r = await request(srv, '/_mirrorstate/api/states/s', { headers: { Host: host } });
    assert.equal(r.status, 200, `Host ${host}: ${r.status} ${r.body}`);
    const w = await h.attempt(srv, { headers: { Host: host } });
    assert.equal(w.status, 101, `upgrade with Host ${host}: ${w.status} ${w.body}`);
  }
});

test('Origin check: a foreign Origin is refused; allowed hosts on any port and no Origin pass', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { secret: 1 });
  const srv = await h.server({ files: [f] });
  for (const origin of ['http://evil.example', `http://evil.example:${srv.port}`, 'http://localhost.evil.example', 'null']) {
    const w = await h.attempt(srv, { origin });
    assert.equal(w.status, 403, `upgrade with Origin ${origin}`);
    const r = await request(srv, '/_mirrorstate/api/states/s', { headers: { Origin: origin } });
    assert.equal(r.status, 403, `API with Origin ${origin}: ${r.status} ${r.body}`);
  }
  for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', `http://127.0.0.1:${srv.port}`, undefined]) {
    const w = await h.attempt(srv, { origin });
    assert.equal(w.status, 101, `upgrade with Origin ${origin}: ${w.status} ${w.body}`);
    const snap = await w.client.subscribe('s');
    assert.deepEqual(snap.state, { secret: 1 });
  }
});

test('a WebSocket on another path is refused', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  for (const p of ['/foo', '/', '/_mirrorstate/', '/_mirrorstate/wsx', '/_mirrorstate/api/states']) {
    const w = await h.attempt(srv, { path: p });
    assert.notEqual(w.status, 101, `upgrade on ${p} was accepted`);
    if (p === '/foo') assert.equal(w.status, 404);
  }
  const ok = await h.attempt(srv);
  assert.equal(ok.status, 101);
});

test('--allow-host and --allow-origin extend the allowlists, and nothing more', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], args: ['--allow-host', 'myapp.test', '--allow-origin', 'http://app.test:*'] });
  let r = await request(srv, '/_mirrorstate/api/states/s', { headers: { Host: `myapp.test:${srv.port}` } });
  assert.equal(r.status, 200, r.body);
  r = await request(srv, '/_mirrorstate/api/states/s', { headers: { Host: 'evil.example' } });
  assert.equal(r.status, 403);
  assert.equal((await h.attempt(srv, { headers: { Host: `myapp.test:${srv.port}` } })).status, 101);
  assert.equal((await h.attempt(srv, { origin: 'http://app.test:8080' })).status, 101);
  assert.equal((await h.attempt(srv, { origin: 'http://myapp.test:3000' })).status, 101, 'an allowed host is an allowed Origin host');
  for (const origin of ['http://app.test.evil.example:8080', 'http://evil.example', 'http://xapp.test:8080']) {
    assert.equal((await h.attempt(srv, { origin })).status, 403, `Origin ${origin}`);
  }
});

test('--token: API and WebSocket need the token (query or Bearer)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { secret: 1 });
  const token = 'test-token-0123456789';
  const srv = await h.server({ files: [f], args: ['--token', token] });
  const p = '/_mirrorstate/api/states/s';
  for (const [what, opts, path] of [
    ['no token', {}, p],
    ['wrong query token', {}, `${p}?token=nope`],
    ['wrong Bearer', { headers: { Authorization: 'Bearer nope' } }, p],
  ]) {
    const r = await request(srv, path, opts);
    assert.ok(r.status === 401 || r.status === 403, `${what}: ${r.status} ${r.body}`);
    assert.doesNotMatch(r.body, /secret/, what);
  }
  // Every accepted form is checked; all failures are reported together.
  const problems = [];
  let r = await request(srv, `${p}?token=${token}`);
  if (r.status !== 200) problems.push(`API with ?token=: ${r.status} ${r.body}`);
  r = await request(srv, p, { headers: { Authorization: `Bearer ${token}` } });
  if (r.status !== 200) problems.push(`API with Bearer: ${r.status} ${r.body}`);

  const refused = await h.attempt(srv);
  if (!(refused.status === 401 || refused.status === 403)) problems.push(`upgrade without token: ${refused.status}`);
  const wrong = await h.attempt(srv, { path: '/_mirrorstate/ws?token=nope' });
  if (!(wrong.status === 401 || wrong.status === 403)) problems.push(`upgrade with a wrong token: ${wrong.status}`);
  const q = await h.attempt(srv, { path: `/_mirrorstate/ws?token=${token}` });
  if (q.status !== 101) problems.push(`upgrade with ?token=: ${q.status} ${q.body}`);
  else assert.deepEqual((await q.client.subscribe('s')).state, { secret: 1 });
  const b = await h.attempt(srv, { headers: { Authorization: `Bearer ${token}` } });
  if (b.status !== 101) problems.push(`upgrade with Bearer: ${b.status} ${b.body}`);
  assert.deepEqual(problems, []);
});

test('a POST body over --max-message gets 413 with a JSON error; nothing applied', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], args: ['--max-message', '200'] });
  const body = JSON.stringify({ type: 'patch', ops: [{ op: 'add', path: '/b', value: 'x'.repeat(500) }] });
  const r = await request(srv, '/_mirrorstate/api/states/s', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, body,
  });
  assert.equal(r.status, 413, r.body);
  assert.equal(r.json.code, 'too_large');
  assert.deepEqual((await request(srv, '/_mirrorstate/api/states/s')).json, { a: 1 });
});
