// Who may talk to the server: request headers read whole (Host, Origin,
// Authorization, the query), the exact Host and Origin rules, this
// machine's own tailnet names only. See docs/security.md.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { setup, request, pretty, waitFor, runCli, raw, rawUpgrade } from '../lib/index.mjs';

const API = '/_mirrorstate/api/states/s';
const SHORT_HOST = os.hostname().split('.')[0].toLowerCase();

/** A server on s.json = {secret: 1, a: 1, 'a%b': 2} with no tailnet of its own. */
async function serve(h, args = [], env = {}) {
  const f = h.file('s.json', { secret: 1, a: 1, 'a%b': 2 });
  const resolv = h.file('resolv.conf', 'nameserver 127.0.0.53\n');
  const srv = await h.server({
    files: [f],
    args,
    env: { MIRRORSTATE_TAILSCALE: '', MIRRORSTATE_RESOLV_CONF: resolv, ...env },
  });
  return { srv, f };
}

const refusedJson = (r, status, what) => {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.body}`);
  assert.equal(r.json?.type, 'error', `${what}: the refusal is a JSON error: ${r.body}`);
  assert.doesNotMatch(r.body, /secret/, what);
};

test('a long foreign Origin is read whole and refused on the WebSocket, GET and POST', async (t) => {
  const h = setup(t);
  const { srv, f } = await serve(h);
  const origin = `http://${'a'.repeat(250)}.evil.com:8443`;
  assert.ok(origin.length > 256);
  const w = await h.attempt(srv, { origin });
  assert.equal(w.status, 403, `upgrade with a ${origin.length}-byte Origin`);
  refusedJson(await request(srv, API, { headers: { Origin: origin } }), 403, 'GET');
  const body = JSON.stringify({ type: 'patch', ops: [{ op: 'replace', path: '/secret', value: 'pwned' }] });
  const r = await request(srv, API, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'text/plain' }, body });
  refusedJson(r, 403, 'POST text/plain');
  assert.equal(fs.readFileSync(f, 'utf8'), pretty({ secret: 1, a: 1, 'a%b': 2 }));
  assert.match(srv.stderr, /refused .*Origin not allowed/);
});

test('a long allowed Origin passes and is listed whole', async (t) => {
  const h = setup(t);
  const name = ['a', 'b', 'c', 'd'].map((c) => c.repeat(60)).join('.') + '.test';
  const { srv } = await serve(h, ['--allow-host', name]);
  const origin = `http://${name}:3000`;
  assert.ok(origin.length > 256);
  const c = await h.client(srv, { origin });
  assert.deepEqual((await c.subscribe('s')).state.secret, 1);
  c.send({ type: 'clients', ref: 1 });
  const list = await c.next({ type: 'clients' });
  assert.equal(list.clients.find((x) => x.id === c.id)?.origin, origin);
  const r = await request(srv, API, { headers: { Origin: origin } });
  assert.equal(r.status, 200, r.body);
});

test('a header over 8 KiB, or a Host, Origin or Authorization sent twice, gets 400 and a JSON error', async (t) => {
  const h = setup(t);
  const { srv } = await serve(h);
  const cases = [
    ['Origin over 8 KiB', ['Host: localhost', `Origin: http://${'a'.repeat(9000)}.example`]],
    ['Host over 8 KiB', [`Host: ${'a'.repeat(9000)}.localhost`]],
    ['Cookie over 8 KiB', ['Host: localhost', `Cookie: x=${'a'.repeat(9000)}`]],
    ['Authorization over 8 KiB', ['Host: localhost', `Authorization: Bearer ${'a'.repeat(9000)}`]],
    ['Host twice', ['Host: localhost', 'Host: evil.example']],
    ['Host twice, both allowed', ['Host: localhost', 'Host: localhost']],
    ['Origin twice', ['Host: localhost', 'Origin: http://localhost:3000', 'Origin: http://evil.example']],
    ['Origin and Sec-WebSocket-Origin', ['Host: localhost', 'Origin: http://localhost:3000', 'Sec-WebSocket-Origin: http://evil.example']],
    ['Authorization twice', ['Host: localhost', 'Authorization: Bearer a', 'Authorization: Bearer b']],
  ];
  for (const [what, lines] of cases) {
    refusedJson(await raw(srv, API, lines), 400, `GET, ${what}`);
    const u = await rawUpgrade(srv, lines);
    assert.equal(u.status, 400, `upgrade, ${what}: ${u.status} ${u.body}`);
  }
  const q = await raw(srv, `${API}?pad=${'x'.repeat(9000)}`);
  refusedJson(q, 400, 'a query over 8 KiB');
  assert.match(srv.stderr, /refused .*(too long|more than once)/);
});

test('a present but empty Origin is refused, not taken for an absent one', async (t) => {
  const h = setup(t);
  const { srv } = await serve(h);
  refusedJson(await raw(srv, API, ['Host: localhost', 'Origin:']), 403, 'GET');
  refusedJson(await raw(srv, API, ['Host: localhost', 'Origin:   ']), 403, 'GET, blank');
  const u = await rawUpgrade(srv, ['Host: localhost', 'Origin:']);
  assert.equal(u.status, 403, `upgrade: ${u.status}`);
  // Absent still passes (CLI, scripts).
  assert.equal((await raw(srv, API, ['Host: localhost'])).status, 200);
});

test('Host header: only well-formed allowed names pass', async (t) => {
  const h = setup(t);
  const { srv } = await serve(h);
  const refused = [
    'evil.example', 'localhost.evil.example', 'evil.localhost.example', '127.0.0.1.evil.example',
    'user@localhost', 'localhost@evil.example', 'local host', 'localhost:abc', 'localhost:99999',
    'localhost:', 'localhost:80:80', 'localhost:+80', 'localhos%74', 'localhost..', '.localhost',
    '[::1', '::1', '[::1]x', 'localhost/x', 'localhost\\x', 'localhost,evil.example', 'a'.repeat(300),
    `${SHORT_HOST}.tail-attacker.ts.net`, `${SHORT_HOST}.evil.example`, '',
  ];
  const problems = [];
  for (const host of refused) {
    const r = await raw(srv, API, [`Host: ${host}`]);
    if (r.status !== 403 && r.status !== 400) problems.push(`Host ${JSON.stringify(host)}: ${r.status}`);
    else if (/secret/.test(r.body)) problems.push(`Host ${JSON.stringify(host)}: leaked`);
    const u = await rawUpgrade(srv, [`Host: ${host}`]);
    if (u.status !== 403 && u.status !== 400) problems.push(`upgrade, Host ${JSON.stringify(host)}: ${u.status}`);
  }
  const noHost = await raw(srv, API, []);
  if (noHost.status === 200) problems.push('no Host header: 200');
  const allowed = [
    'localhost', 'LOCALHOST', 'localhost.', `localhost:${srv.port}`, `127.0.0.1:${srv.port}`,
    '[::1]', `[::1]:${srv.port}`, '[0:0:0:0:0:0:0:1]', 'app.localhost', 'localhost.localdomain', SHORT_HOST,
  ];
  for (const host of allowed) {
    const r = await raw(srv, API, [`Host: ${host}`]);
    if (r.status !== 200) problems.push(`allowed Host ${JSON.stringify(host)}: ${r.status} ${r.body}`);
  }
  assert.deepEqual(problems, []);
});

test('Origin header: scheme://host[:port] of an allowed host, nothing else', async (t) => {
  const h = setup(t);
  const { srv } = await serve(h, ['--allow-origin', 'http://app.test:*', '--allow-origin', 'https://exact.test']);
  const refused = [
    'null', 'http://localhost:3000/', 'http://localhost:3000/x', 'http://user@localhost:3000',
    'http://localhost:3000?x', 'http://localhost:3000#x', 'ftp://localhost', 'file://', 'localhost',
    'http:/localhost', 'http://localhos%74', 'http://localhost:abc', 'http://localhost:', 'http://[::1',
    'http://evil.example', 'http://localhost.evil.example', 'http://localhost:3000, http://evil.example',
    'http://local host', `http://${SHORT_HOST}.tail-attacker.ts.net`, 'http://app.test.evil:80',
    'http://app.test:80/', 'https://app.test:80', 'https://exact.test:8443', 'https://exact.test/',
  ];
  const problems = [];
  for (const origin of refused) {
    const r = await raw(srv, API, ['Host: localhost', `Origin: ${origin}`]);
    if (r.status !== 403) problems.push(`Origin ${JSON.stringify(origin)}: ${r.status}`);
    const u = await rawUpgrade(srv, ['Host: localhost', `Origin: ${origin}`]);
    if (u.status !== 403) problems.push(`upgrade, Origin ${JSON.stringify(origin)}: ${u.status}`);
  }
  const allowed = [
    'http://localhost:3000', 'HTTP://LOCALHOST:3000', 'http://localhost.:3000', 'http://[::1]:5173',
    'https://127.0.0.1', 'http://app.localhost:8080', 'http://app.test:8080', 'HTTP://APP.TEST:1',
    'https://exact.test', 'https://exact.test:443', 'http://app.test', `http://${SHORT_HOST}:3000`,
  ];
  for (const origin of allowed) {
    const r = await raw(srv, API, ['Host: localhost', `Origin: ${origin}`]);
    if (r.status !== 200) problems.push(`allowed Origin ${JSON.stringify(origin)}: ${r.status} ${r.body}`);
  }
  assert.deepEqual(problems, []);
});

test('a malformed --allow-origin or --allow-host is a configuration error (exit 2)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  for (const [opt, value] of [
    ['--allow-origin', 'http://app.test/'], ['--allow-origin', 'app.test'], ['--allow-origin', 'ftp://app.test'],
    ['--allow-origin', 'http://app.test:*/x'], ['--allow-host', 'http://app.test'], ['--allow-host', 'app.test:3000'],
    ['--allow-host', 'a b'],
  ]) {
    const r = await runCli(['serve', '--file', f, '--port', '0', opt, value]);
    assert.equal(r.code, 2, `${opt} ${value}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${opt} `));
  }
});

test('the query is read whole: a long one is not dropped, and each value is decoded once', async (t) => {
  const h = setup(t);
  const { srv } = await serve(h);
  let r = await request(srv, `${API}?pad=${'x'.repeat(3000)}&pointer=/a`);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, '1', 'the value at /a, not the whole state');
  r = await request(srv, `${API}?pointer=${encodeURIComponent('/a%b')}`);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, '2');
});

test('a long token is read whole from the query and from Authorization', async (t) => {
  const h = setup(t);
  const token = 'T'.repeat(600);
  const { srv } = await serve(h, ['--token', token]);
  let r = await request(srv, `${API}?token=${token}`);
  assert.equal(r.status, 200, `?token=: ${r.body}`);
  r = await request(srv, API, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, `Bearer: ${r.body}`);
  r = await request(srv, `${API}?token=${token.slice(0, 512)}`);
  assert.equal(r.status, 403, 'a prefix of the token is not the token');
  assert.equal((await h.attempt(srv, { path: `/_mirrorstate/ws?token=${token}` })).status, 101);
  assert.equal((await h.attempt(srv, { headers: { Authorization: `Bearer ${token}` } })).status, 101);
});

// ---------------------------------------------------------------- tailnet names

function fakeTailscale(h, dnsName, { hang = false } = {}) {
  const out = JSON.stringify({ Version: '1.80.0', BackendState: 'Running', Self: { DNSName: dnsName, HostName: 'x' } });
  const pidFile = h.path('tailscale.pid');
  const script = hang
    ? `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 600\n`
    : `#!/bin/sh\n[ "$1" = status ] && [ "$2" = --json ] || exit 9\ncat <<'EOF'\n${out}\nEOF\n`;
  const p = h.file('tailscale', script);
  fs.chmodSync(p, 0o755);
  return { path: p, pidFile };
}

test('tailnet: only this machine\'s own MagicDNS name (from tailscale status) passes', async (t) => {
  const h = setup(t);
  const ts = fakeTailscale(h, 'devbox.tail1234.ts.net.');
  const { srv } = await serve(h, [], { MIRRORSTATE_TAILSCALE: ts.path });
  // The answer arrives while the server already serves: wait for it.
  await waitFor(async () => (await raw(srv, API, ['Host: devbox.tail1234.ts.net'])).status === 200, { message: 'the tailnet name to be allowed' });
  const problems = [];
  for (const host of ['devbox.tail1234.ts.net', 'DEVBOX.tail1234.ts.net.', 'devbox.tail1234.ts.net:7420', 'devbox']) {
    const r = await raw(srv, API, [`Host: ${host}`]);
    if (r.status !== 200) problems.push(`own name ${host}: ${r.status}`);
  }
  for (const host of ['devbox.tail-attacker.ts.net', `${SHORT_HOST}.tail-attacker.ts.net`, 'vm.tail-attacker.ts.net',
    'x.devbox.tail1234.ts.net', 'tail1234.ts.net', 'other.tail1234.ts.net', 'devbox.tail1234.ts.net.evil.example']) {
    const r = await raw(srv, API, [`Host: ${host}`]);
    if (r.status !== 403) problems.push(`foreign name ${host}: ${r.status}`);
    const o = await raw(srv, API, ['Host: localhost', `Origin: https://${host}`]);
    if (o.status !== 403) problems.push(`foreign Origin https://${host}: ${o.status}`);
  }
  const o = await rawUpgrade(srv, ['Host: localhost', 'Origin: https://devbox.tail1234.ts.net']);
  if (o.status !== 101) problems.push(`own Origin on the WebSocket: ${o.status}`);
  assert.deepEqual(problems, []);
});

test('tailnet: without the tailscale CLI, the .ts.net search domain of resolv.conf names the tailnet', async (t) => {
  const h = setup(t);
  const resolv = h.file('resolv-ts.conf', 'nameserver 100.100.100.100\nsearch example.com tail9876.ts.net\n');
  const { srv } = await serve(h, [], { MIRRORSTATE_TAILSCALE: h.path('no-such-tailscale'), MIRRORSTATE_RESOLV_CONF: resolv });
  const problems = [];
  for (const host of [`${SHORT_HOST}.tail9876.ts.net`, SHORT_HOST]) {
    const r = await raw(srv, API, [`Host: ${host}`]);
    if (r.status !== 200) problems.push(`own name ${host}: ${r.status}`);
  }
  for (const host of [`${SHORT_HOST}.tail-attacker.ts.net`, 'vm.tail-attacker.ts.net', `${SHORT_HOST}.example.com`, `other.tail9876.ts.net`]) {
    const r = await raw(srv, API, [`Host: ${host}`]);
    if (r.status !== 403) problems.push(`foreign name ${host}: ${r.status}`);
  }
  assert.deepEqual(problems, []);
});

test('tailnet: with no tailnet known, no .ts.net name passes; a hung tailscale CLI is killed and never delays serving', async (t) => {
  const h = setup(t);
  const ts = fakeTailscale(h, '', { hang: true });
  const { srv } = await serve(h, [], { MIRRORSTATE_TAILSCALE: ts.path });
  assert.equal((await raw(srv, '/_mirrorstate/healthz')).status, 200, 'serving while the CLI hangs');
  for (const host of [`${SHORT_HOST}.tail-attacker.ts.net`, `${SHORT_HOST}.tail1234.ts.net`]) {
    assert.equal((await raw(srv, API, [`Host: ${host}`])).status, 403, host);
  }
  const pid = Number(await waitFor(() => fs.existsSync(ts.pidFile) && fs.readFileSync(ts.pidFile, 'utf8').trim(), { message: 'the fake CLI to start' }));
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  await waitFor(() => !alive(), { timeout: 15000, message: `the hung tailscale CLI (pid ${pid}) to be killed` });
  assert.equal((await raw(srv, API, ['Host: localhost'])).status, 200);
});

test('tailnet: a server stopped while the tailscale CLI still runs exits cleanly and kills it', async (t) => {
  const h = setup(t);
  const ts = fakeTailscale(h, '', { hang: true });
  const { srv } = await serve(h, [], { MIRRORSTATE_TAILSCALE: ts.path });
  const pid = Number(await waitFor(() => fs.existsSync(ts.pidFile) && fs.readFileSync(ts.pidFile, 'utf8').trim(), { message: 'the fake CLI to start' }));
  await srv.stop();
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  await waitFor(() => !alive(), { message: `the tailscale CLI (pid ${pid}) to be killed` });
});

// ---------------------------------------------------------------- clients list

test('a page URL a client reports is listed without its query and fragment', async (t) => {
  const h = setup(t);
  const { srv } = await serve(h);
  const spy = await h.client(srv);
  const cases = [
    ['http://127.0.0.1:7420/_mirrorstate/?token=s3cret#todo', 'http://127.0.0.1:7420/_mirrorstate/'],
    ['http://localhost:3000/app?x=1&token=s3cret', 'http://localhost:3000/app'],
    ['http://user:pass@localhost:3000/p#token=s3cret', 'http://localhost:3000/p'],
    ['about:blank', 'about:blank'],
  ];
  for (const [page, want] of cases) {
    const c = await h.client(srv);
    c.send({ type: 'identify', role: 'app', page });
    await waitFor(async () => {
      spy.send({ type: 'clients', ref: page });
      const list = await spy.next({ type: 'clients', ref: page });
      return list.clients.find((x) => x.id === c.id)?.page === want;
    }, { message: `page ${page} listed as ${want}` });
    spy.send({ type: 'clients', ref: 'all' });
    const list = await spy.next({ type: 'clients', ref: 'all' });
    assert.doesNotMatch(JSON.stringify(list), /s3cret|pass@/);
    c.close();
  }
});
