// --static: the same access check as every other route, never the state,
// runtime, temp or .unsaved files, the token once one is set; and the
// security headers on every response. See docs/security.md.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setup, request, pretty, raw, rawUpgrade } from '../lib/index.mjs';

const SHORT_HOST = os.hostname().split('.')[0].toLowerCase();
const APP = 'export const secret = "APP-SOURCE-SECRET";\n';
const HTML = '<!doctype html><title>app</title><script type="module" src="app.js"></script>\n';

/** The layout `make run` uses: the state file inside the static dir. */
async function appLayout(h, { args = [], token, prepare } = {}) {
  const www = h.path('www');
  fs.mkdirSync(www);
  if (prepare) prepare(www);
  fs.writeFileSync(path.join(www, 'index.html'), HTML);
  fs.writeFileSync(path.join(www, 'app.js'), APP);
  const state = h.file('www/state.json', { secret: 'STATE-SECRET' });
  const extra = token ? ['--token', token] : [];
  const srv = await h.server({ files: [state], args: ['--static', www, ...extra, ...args], cwd: www, env: { MIRRORSTATE_TAILSCALE: '' } });
  return { srv, www, state };
}

// The Host variants an independent review found served by the static mount.
const BAD_HOSTS = [
  'evil.example', 'evil.example:7420', 'attacker.test', 'localhost.evil.example', 'evil.localhost.example',
  '127.0.0.1.evil.example', '127.0.0.1.nip.io', 'localtest.me', 'user@localhost', 'localhost@evil.example',
  'localhost:abc', 'localhost:', 'localhost:80:80', 'local host', '[::1', 'localhost..', '.localhost',
  'a'.repeat(300), `${SHORT_HOST}.tail-attacker.ts.net`, `${SHORT_HOST}.evil.example`, '0x7f.0.0.1',
  '2130706433', '127.1', '',
];

test('--static: every refused Host gets 403 on the app\'s files and on 404s, never the file', async (t) => {
  const h = setup(t);
  const { srv } = await appLayout(h);
  const problems = [];
  for (const host of BAD_HOSTS) {
    for (const p of ['/', '/index.html', '/app.js', '/missing.js', '/state.json']) {
      const r = await raw(srv, p, [`Host: ${host}`]);
      if (r.status !== 403 && r.status !== 400) problems.push(`GET ${p} Host ${JSON.stringify(host)}: ${r.status}`);
      if (/SECRET/.test(r.body)) problems.push(`GET ${p} Host ${JSON.stringify(host)}: leaked the file`);
    }
  }
  const r = await raw(srv, '/app.js', []);
  if (r.status === 200) problems.push('GET /app.js without Host: 200');
  assert.deepEqual(problems, []);
  // A foreign Origin is refused there too; allowed requests still work.
  const o = await raw(srv, '/app.js', ['Host: localhost', 'Origin: http://evil.example']);
  assert.equal(o.status, 403);
  const ok = await raw(srv, '/app.js', [`Host: localhost:${srv.port}`]);
  assert.equal(ok.status, 200);
  assert.equal(ok.body, APP);
  assert.match(srv.stderr, /refused .*Host/);
});

test('--static never serves the state file, the runtime file, temp or .unsaved files, or dot-paths', async (t) => {
  const h = setup(t);
  const { srv, www, state } = await appLayout(h, {
    args: ['--dir', h.path('www', 'states')],
    prepare: (dir) => {
      fs.mkdirSync(path.join(dir, 'states'));
      fs.writeFileSync(path.join(dir, 'states', 'todo.json'), pretty({ secret: 'DIR-STATE-SECRET' }));
    },
  });
  fs.writeFileSync(path.join(www, 'state.json.unsaved'), pretty({ secret: 'UNSAVED-SECRET' }));
  fs.writeFileSync(path.join(www, '.state.json.mirrorstate-1234'), 'TEMP-SECRET');
  fs.writeFileSync(path.join(www, '.env'), 'ENV-SECRET=1\n');
  fs.mkdirSync(path.join(www, '.git'));
  fs.writeFileSync(path.join(www, '.git', 'config'), 'GIT-SECRET\n');
  fs.mkdirSync(path.join(www, 'sub'));
  fs.writeFileSync(path.join(www, 'sub', 'ok.txt'), 'fine\n');
  fs.writeFileSync(h.path('outside.txt'), 'OUTSIDE-SECRET\n');
  // Symlinks inside the static dir that lead to what must not be served.
  fs.symlinkSync('state.json', path.join(www, 'link.txt'));
  fs.symlinkSync('.mirrorstate/server.json', path.join(www, 'runtime.txt'));
  fs.symlinkSync('.mirrorstate', path.join(www, 'rt'));
  fs.symlinkSync('.env', path.join(www, 'env.txt'));
  fs.symlinkSync('../outside.txt', path.join(www, 'out.txt'));
  fs.symlinkSync('states', path.join(www, 'st'));
  fs.symlinkSync('sub/ok.txt', path.join(www, 'okay.txt'));
  // Hard links: another name for the same file.
  fs.linkSync(state, path.join(www, 'hard.txt'));
  fs.linkSync(path.join(www, '.mirrorstate', 'server.json'), path.join(www, 'hard-runtime.txt'));
  fs.linkSync(path.join(www, 'state.json.unsaved'), path.join(www, 'hard-unsaved.txt'));
  assert.ok(fs.existsSync(path.join(www, '.mirrorstate', 'server.json')), 'the runtime file is inside the static dir');
  assert.ok(fs.existsSync(state));

  const denied = [
    '/state.json', '/STATE.JSON', '/state.json.unsaved', '/states/todo.json', '/st/todo.json',
    '/.mirrorstate/server.json', '/%2emirrorstate/server.json', '/%2Emirrorstate%2Fserver.json',
    '//.mirrorstate//server.json', '/./.mirrorstate/./server.json', '/sub/../.mirrorstate/server.json',
    '/x/%2e%2e/.mirrorstate/server.json', '/.mirrorstate/', '/.mirrorstate', '/.state.json.mirrorstate-1234',
    '/.env', '/.git/config', '/sub/../.git/config', '/link.txt', '/runtime.txt', '/rt/server.json', '/env.txt',
    '/out.txt', '/../outside.txt', '/%2e%2e/outside.txt', '/state.json%00.txt', '/state.json/', '/sub/..%2fstate.json',
    '/hard.txt', '/hard-runtime.txt', '/hard-unsaved.txt',
  ];
  const problems = [];
  for (const p of denied) {
    const r = await raw(srv, p, [`Host: localhost:${srv.port}`]);
    if (r.status === 200 || /SECRET|"token"/.test(r.body)) problems.push(`GET ${p}: ${r.status} ${r.body.slice(0, 80)}`);
  }
  for (const [p, body] of [['/sub/ok.txt', 'fine\n'], ['/okay.txt', 'fine\n'], ['/', HTML], ['/app.js', APP]]) {
    const r = await raw(srv, p, [`Host: localhost:${srv.port}`]);
    if (r.status !== 200 || r.body !== body) problems.push(`GET ${p} (allowed): ${r.status} ${r.body.slice(0, 80)}`);
  }
  assert.deepEqual(problems, []);
});

test('--static with a token: the token (query, Bearer or the cookie it sets) is required', async (t) => {
  const h = setup(t);
  const token = 'static-token-0123456789';
  const { srv } = await appLayout(h, { token });
  const host = `Host: localhost:${srv.port}`;
  for (const [what, p, lines] of [
    ['no token', '/app.js', [host]],
    ['no token, index', '/', [host]],
    ['no token, 404', '/missing.js', [host]],
    ['wrong query token', '/app.js?token=nope', [host]],
    ['wrong Bearer', '/app.js', [host, 'Authorization: Bearer nope']],
    ['forged cookie', '/app.js', [host, `Cookie: mirrorstate_${srv.port}=${token}`]],
    ['the runtime file, with the token', `/.mirrorstate/server.json?token=${token}`, [host]],
  ]) {
    const r = await raw(srv, p, lines);
    assert.ok(r.status === 401 || r.status === 403 || (what.startsWith('the runtime') && r.status === 404), `${what}: ${r.status}`);
    assert.doesNotMatch(r.body, /SECRET|static-token/, what);
  }
  let r = await raw(srv, `/?token=${token}`, [host]);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, HTML);
  const setCookie = [].concat(r.headers['set-cookie'] || []);
  assert.equal(setCookie.length, 1, 'a cookie for the app\'s other files');
  assert.match(setCookie[0], /HttpOnly/i);
  assert.match(setCookie[0], /SameSite=Strict/i);
  assert.doesNotMatch(setCookie[0], new RegExp(token), 'the cookie is not the token');
  const cookie = setCookie[0].split(';')[0];
  r = await raw(srv, '/app.js', [host, `Cookie: other=1; ${cookie}`]);
  assert.equal(r.status, 200, `with the cookie: ${r.body}`);
  assert.equal(r.body, APP);
  r = await raw(srv, '/app.js', [host, `Authorization: Bearer ${token}`]);
  assert.equal(r.status, 200);
  // The cookie opens the app's files only, not the API or the WebSocket.
  r = await raw(srv, '/_mirrorstate/api/states/state', [host, `Cookie: ${cookie}`]);
  assert.equal(r.status, 403);
  const u = await rawUpgrade(srv, [host, `Cookie: ${cookie}`]);
  assert.equal(u.status, 403);
});

test('HEAD and other methods on static and MirrorState routes go through the same check', async (t) => {
  const h = setup(t);
  const { srv } = await appLayout(h);
  let r = await raw(srv, '/app.js', [`Host: localhost:${srv.port}`], { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  r = await raw(srv, '/app.js', ['Host: evil.example'], { method: 'HEAD' });
  assert.equal(r.status, 403);
  for (const method of ['PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    r = await raw(srv, '/app.js', ['Host: evil.example'], { method });
    assert.equal(r.status, 403, `${method} with a foreign Host`);
    r = await raw(srv, '/app.js', [`Host: localhost:${srv.port}`], { method, body: '' });
    assert.equal(r.status, 405, `${method}: ${r.status} ${r.body}`);
    assert.doesNotMatch(r.body, /SECRET/);
  }
});

// ---------------------------------------------------------------- headers

const hasSecurityHeaders = (r, what) => {
  const problems = [];
  if (r.headers['x-content-type-options'] !== 'nosniff') problems.push(`${what}: X-Content-Type-Options ${JSON.stringify(r.headers['x-content-type-options'])}`);
  const csp = [].concat(r.headers['content-security-policy'] || []).join(', ');
  if (!/frame-ancestors 'self'/.test(csp)) problems.push(`${what}: CSP ${JSON.stringify(csp)}`);
  return problems;
};

test('every response carries nosniff and frame-ancestors: API, assets, static files, errors, refusals', async (t) => {
  const h = setup(t);
  const { srv } = await appLayout(h);
  const host = `Host: localhost:${srv.port}`;
  const cases = [
    ['healthz', '/_mirrorstate/healthz', [host]],
    ['API', '/_mirrorstate/api/states', [host]],
    ['API 404', '/_mirrorstate/api/states/nope', [host]],
    ['panel', '/_mirrorstate/', [host]],
    ['panel asset', '/_mirrorstate/panel/panel.js', [host]],
    ['client.js', '/_mirrorstate/client.js', [host]],
    ['asset 404', '/_mirrorstate/nope.js', [host]],
    ['static file', '/app.js', [host]],
    ['static index', '/', [host]],
    ['static 404', '/missing.js', [host]],
    ['403 Host', '/app.js', ['Host: evil.example']],
    ['403 Origin', '/_mirrorstate/api/states', [host, 'Origin: http://evil.example']],
    ['400 repeated Host', '/', [host, host]],
    ['malformed percent-encoding', '/%zz', [host]],
  ];
  const problems = [];
  for (const [what, p, lines] of cases) problems.push(...hasSecurityHeaders(await raw(srv, p, lines), what));
  for (const [what, lines, p] of [
    ['refused upgrade', ['Host: evil.example']],
    ['upgrade on a wrong path', [host], '/nope'],
    ['refused upgrade, bad Origin', [host, 'Origin: null']],
  ]) {
    const u = await rawUpgrade(srv, lines, p);
    if (u.status === 101) problems.push(`${what}: accepted`);
    else problems.push(...hasSecurityHeaders(u, what));
  }
  assert.deepEqual(problems, []);
});

test('the panel page has a strict Content-Security-Policy and no inline script', async (t) => {
  const h = setup(t);
  const { srv } = await appLayout(h);
  const r = await raw(srv, '/_mirrorstate/', [`Host: localhost:${srv.port}`]);
  assert.equal(r.status, 200);
  const csp = [].concat(r.headers['content-security-policy']).join(', ');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|,|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'self'/);
  assert.doesNotMatch(r.body, /<script>(?!<\/script>)/, 'no inline script');
  // The bare /_mirrorstate redirects to the panel, keeping the query.
  const red = await raw(srv, '/_mirrorstate?token=abc', [`Host: localhost:${srv.port}`]);
  assert.ok([301, 302, 307, 308].includes(red.status), `redirect: ${red.status}`);
  assert.equal(red.headers.location, '/_mirrorstate/?token=abc');
});

test('client assets answer allowed origins with CORS headers, and only those', async (t) => {
  const h = setup(t);
  const { srv } = await appLayout(h);
  const host = `Host: 127.0.0.1:${srv.port}`;
  for (const asset of ['/_mirrorstate/client.js', '/_mirrorstate/core.js', '/_mirrorstate/patch.js']) {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', `http://${SHORT_HOST}:3000`]) {
      const r = await raw(srv, asset, [host, `Origin: ${origin}`]);
      assert.equal(r.status, 200, `${asset} from ${origin}: ${r.status}`);
      assert.equal(r.headers['access-control-allow-origin'], origin, `${asset} from ${origin}`);
      assert.match(String(r.headers.vary), /Origin/i);
    }
    const evil = await raw(srv, asset, [host, 'Origin: http://evil.example']);
    assert.equal(evil.status, 403);
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const none = await raw(srv, asset, [host]);
    assert.equal(none.status, 200);
    assert.equal(none.headers['access-control-allow-origin'], undefined);
    assert.match(String(none.headers.vary), /Origin/i);
  }
  // Not for the API: pages on other ports use the WebSocket.
  const api = await raw(srv, '/_mirrorstate/api/states', [host, 'Origin: http://localhost:5173']);
  assert.equal(api.headers['access-control-allow-origin'], undefined);
});

test('without --static, unknown paths are a JSON 404 after the same Host check', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  let r = await raw(srv, '/foo', ['Host: evil.example']);
  assert.equal(r.status, 403);
  r = await raw(srv, '/foo', [`Host: localhost:${srv.port}`]);
  assert.equal(r.status, 404);
  assert.equal(r.json?.type, 'error');
  r = await request(srv, '/s.json');
  assert.equal(r.status, 404);
});
