// Remote access as on a tailnet: a network namespace with an interface
// named tailscale0 (a veth end carrying a 100.64.x.y address) and a peer
// namespace on the other end; and a namespace where tailscale0 comes up
// only after the server started, loses its address and gets it back, as
// at boot and when tailscaled restarts. Needs root for `ip netns`; without
// it, every test is skipped with the reason printed, and with
// MIRRORSTATE_NETNS_REQUIRED=1 (as scripts/test.sh runs it) the file fails.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SUBPROTOCOL, WS_PATH, removeDir, sleep, startServer, stopServer, tempDir, waitFor } from '../lib/index.mjs';

const tag = `ms${process.pid}`;
const SRV = `${tag}-srv`;
const PEER = `${tag}-peer`;
const LATE = `${tag}-late`; // tailscale0 appears after the server starts
const SRV_ADDR = '100.64.7.1';
const PEER_ADDR = '100.64.7.2';
const LATE_ADDR = '100.64.8.1';
const LATE_PEER_ADDR = '100.64.8.2';
const LATE_V6 = 'fd7a:115c:a1e0::81';
const LATE_PEER_V6 = 'fd7a:115c:a1e0::82';
const WAIT = 15000;

function netnsUnavailable() {
  if (process.getuid && process.getuid() !== 0) return 'not root: ip netns needs root';
  const r = spawnSync('ip', ['netns', 'add', `${tag}-probe`]);
  if (r.status !== 0) return `ip netns unavailable: ${String(r.stderr).trim()}`;
  // Entering a namespace also needs a mount namespace of its own, which a
  // chroot (where / is not a mount point) cannot give.
  const enter = spawnSync('ip', ['-n', `${tag}-probe`, 'link', 'set', 'lo', 'up']);
  spawnSync('ip', ['netns', 'del', `${tag}-probe`]);
  if (enter.status !== 0) return `cannot enter a network namespace: ${String(enter.stderr).trim()}`;
  return false;
}
const skip = netnsUnavailable();
if (skip) console.log(`# netns tests skipped: ${skip}`);
// scripts/test.sh (make test) requires them: there, not being able to run
// them is a failure, not a pass.
if (skip && process.env.MIRRORSTATE_NETNS_REQUIRED === '1') {
  test('network namespaces can be set up (MIRRORSTATE_TEST_SKIP=netns leaves this suite out)', () => {
    assert.fail(`the netns suite cannot run: ${skip}`);
  });
}

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

function setupNamespaces() {
  ip('netns', 'add', SRV);
  ip('netns', 'add', PEER);
  ip('link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`);
  ip('link', 'set', `${tag}a`, 'netns', SRV);
  ip('link', 'set', `${tag}b`, 'netns', PEER);
  ip('-n', SRV, 'link', 'set', `${tag}a`, 'name', 'tailscale0');
  ip('-n', SRV, 'addr', 'add', `${SRV_ADDR}/24`, 'dev', 'tailscale0');
  ip('-n', SRV, 'link', 'set', 'tailscale0', 'up');
  ip('-n', SRV, 'link', 'set', 'lo', 'up');
  ip('-n', PEER, 'addr', 'add', `${PEER_ADDR}/24`, 'dev', `${tag}b`);
  ip('-n', PEER, 'link', 'set', `${tag}b`, 'up');
  ip('-n', PEER, 'link', 'set', 'lo', 'up');
  // The late one: loopback only, and a veth pair whose server end waits in
  // the peer namespace under another name until a test moves it.
  ip('netns', 'add', LATE);
  ip('-n', LATE, 'link', 'set', 'lo', 'up');
  ip('link', 'add', `${tag}c`, 'type', 'veth', 'peer', 'name', `${tag}d`);
  ip('link', 'set', `${tag}d`, 'netns', PEER);
  ip('-n', PEER, 'addr', 'add', `${LATE_PEER_ADDR}/24`, 'dev', `${tag}d`);
  ip('-n', PEER, 'addr', 'add', `${LATE_PEER_V6}/64`, 'dev', `${tag}d`, 'nodad');
  ip('-n', PEER, 'link', 'set', `${tag}d`, 'up');
}

if (!skip) {
  setupNamespaces();
  after(() => {
    spawnSync('ip', ['link', 'del', `${tag}c`]); // if no test moved it
    spawnSync('ip', ['netns', 'del', SRV]);
    spawnSync('ip', ['netns', 'del', PEER]);
    spawnSync('ip', ['netns', 'del', LATE]);
  });
}

const dir = tempDir('mirrorstate-netns-');
after(() => removeDir(dir));

// This machine's tailnet, as MagicDNS writes it into resolv.conf; no
// tailscale CLI is asked.
const RESOLV = path.join(dir, 'resolv.conf');
fs.writeFileSync(RESOLV, 'nameserver 100.100.100.100\nsearch tail1234.ts.net\n');
const TAILNET_ENV = { MIRRORSTATE_TAILSCALE: '', MIRRORSTATE_RESOLV_CONF: RESOLV };

let served = 0;

/** Starts mirrorstate inside the server namespace (or ns); resolves with
 * the server once it printed every URL line. */
async function serve(args, ns = SRV) {
  const file = path.join(dir, `s${++served}.json`);
  fs.writeFileSync(file, '{"hello": "tailnet"}\n');
  const s = await startServer({ files: [file], host: null, args, env: TAILNET_ENV, wrap: ['ip', 'netns', 'exec', ns], timeout: WAIT });
  await sleep(50); // every line of the burst
  s.urls = s.stdout.split('\n').filter((l) => l.startsWith('http://'));
  return s;
}

/** GET url from namespace ns; resolves {status, body} or {error}. */
function fromNs(ns, url, headers = {}) {
  // node:http, not fetch: fetch drops a Host header silently.
  const script = `
    const req = require('http').get(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)}, timeout: 3000 }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; });
      res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message })));`;
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeout: WAIT });
  return JSON.parse(String(r.stdout).trim() || '{"error":"no output"}');
}

/** GET url from the peer namespace; resolves {status, body} or {error}. */
const fromPeer = (url, headers = {}) => fromNs(PEER, url, headers);

test('--host tailscale is reachable from a tailnet peer, by address', { skip }, async () => {
  const s = await serve(['--host', 'tailscale']);
  const { urls } = s;
  const port = Number(urls[0].match(/:(\d+)\//)[1]);
  assert.ok(urls.includes(`http://${SRV_ADDR}:${port}/_mirrorstate/`), urls.join(' '));
  assert.ok(urls.includes(`http://127.0.0.1:${port}/_mirrorstate/`), urls.join(' '));
  assert.ok(urls.some((u) => u === `http://${os.hostname().split('.')[0]}:${port}/_mirrorstate/`),
    `the host name URL is printed: ${urls.join(' ')}`);
  const r = fromPeer(`http://${SRV_ADDR}:${port}/_mirrorstate/api/states/${'x'}`);
  assert.equal(r.status, 404, JSON.stringify(r)); // reached the API: unknown state
  const h = fromPeer(`http://${SRV_ADDR}:${port}/_mirrorstate/healthz`);
  assert.equal(h.status, 200, JSON.stringify(h));
  // This machine's MagicDNS name in its own tailnet passes the Host check;
  // the same name in another tailnet does not.
  const short = os.hostname().split('.')[0];
  assert.equal(fromPeer(`http://${SRV_ADDR}:${port}/_mirrorstate/healthz`,
    { Host: `${short}.tail1234.ts.net:${port}` }).status, 200);
  assert.equal(fromPeer(`http://${SRV_ADDR}:${port}/_mirrorstate/healthz`,
    { Host: `${short}.tail-attacker.ts.net:${port}` }).status, 403);
  assert.equal(fromPeer(`http://${SRV_ADDR}:${port}/_mirrorstate/healthz`,
    { Host: `evil.example:${port}` }).status, 403);
  assert.match(s.stderr, /without --token/, 'binding beyond loopback without a token warns');
  assert.equal(await stopServer(s, WAIT), 0);
});

test('the default (loopback) is not reachable from the peer', { skip }, async () => {
  const s = await serve([]);
  const { urls } = s;
  const port = Number(urls[0].match(/:(\d+)\//)[1]);
  const r = fromPeer(`http://${SRV_ADDR}:${port}/_mirrorstate/healthz`);
  assert.ok(r.error, `expected a connection error, got ${JSON.stringify(r)}`);
  assert.doesNotMatch(s.stderr, /without --token/);
  assert.equal(await stopServer(s, WAIT), 0);
});

test('with --token, the peer needs it', { skip }, async () => {
  const s = await serve(['--host', 'tailscale', '--token', 's3cret']);
  const { urls } = s;
  const port = Number(urls[0].match(/:(\d+)\//)[1]);
  const base = `http://${SRV_ADDR}:${port}/_mirrorstate/api/states`;
  assert.equal(fromPeer(base).status, 403);
  assert.equal(fromPeer(`${base}?token=wrong`).status, 403);
  assert.equal(fromPeer(`${base}?token=s3cret`).status, 200);
  assert.equal(fromPeer(base, { Authorization: 'Bearer s3cret' }).status, 200);
  assert.doesNotMatch(s.stderr, /without --token/);
  assert.equal(await stopServer(s, WAIT), 0);
});

test('--host tailscale without a tailscale0 interface serves on loopback and says what it waits for', { skip }, async () => {
  const s = await serve(['--host', 'tailscale'], PEER);
  const port = s.port;
  assert.deepEqual(s.urls, [`http://127.0.0.1:${port}/_mirrorstate/`]);
  assert.match(s.stderr, /warning: --host tailscale: there is no tailscale0 interface yet .*listening on loopback only until tailscale0 has an address/);
  assert.equal(fromNs(PEER, `http://127.0.0.1:${port}/_mirrorstate/healthz`).status, 200);
  assert.equal(await stopServer(s, WAIT), 0);
});

/** The lines of a server's stderr that match re. */
const lines = (s, re) => s.stderr.split('\n').filter((l) => re.test(l));

/** Waits until n lines of s's stderr match re; a timeout quotes stderr as
 * it is then. */
async function logged(s, re, n, what) {
  try {
    await waitFor(() => lines(s, re).length >= n, { timeout: WAIT, message: what });
  } catch (e) {
    throw new Error(`${e.message}; stderr:\n${s.stderr}`);
  }
  assert.equal(lines(s, re).length, n, `${what}: ${n} lines, no more; stderr:\n${s.stderr}`);
}

/** Listening TCP sockets in namespace ns, as "ADDR:PORT" (IPv6 in brackets). */
function listening(ns) {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-ltnH'], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[3]);
}

/** A WebSocket opened from the peer namespace and held open; resolves once
 * it is open with { proc, closed } (closed: resolves when the peer
 * process ends). */
async function peerSocket(url) {
  const script = `
    const ws = new WebSocket(${JSON.stringify(url)}, ${JSON.stringify(SUBPROTOCOL)});
    ws.onopen = () => console.log('open');
    ws.onerror = () => console.log('error');
    ws.onclose = (e) => { console.log('closed ' + e.code); process.exit(0); };
    setTimeout(() => process.exit(0), ${WAIT});`;
  const proc = spawn('ip', ['netns', 'exec', PEER, process.execPath, '--experimental-websocket', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  const closed = new Promise((resolve) => proc.on('exit', resolve));
  await waitFor(() => /open|error|closed/.test(out), { timeout: WAIT, message: 'the peer\'s WebSocket to open' });
  assert.match(out, /open/, `the peer's WebSocket: ${out}`);
  return { proc, closed };
}

test('--host tailscale started before tailscale0 exists: listens on it once it has an address, stops when the address goes, comes back with it', { skip }, async () => {
  const s = await serve(['--host', 'tailscale'], LATE);
  const port = s.port;
  assert.deepEqual(s.urls, [`http://127.0.0.1:${port}/_mirrorstate/`], 'only loopback at start');
  assert.match(s.stderr, /there is no tailscale0 interface yet/);
  assert.match(s.stderr, /without --token/, 'the tailnet to come is beyond loopback');
  const url = (a) => `http://${a.includes(':') ? `[${a}]` : a}:${port}/_mirrorstate/healthz`;
  const viaLoopback = (host) => fromNs(LATE, `http://127.0.0.1:${port}/_mirrorstate/healthz`, { Host: host });

  // The interface arrives under another name, with its address: not
  // tailscale0, so not listened on (the peer's connection is refused).
  ip('link', 'set', `${tag}c`, 'netns', LATE);
  ip('-n', LATE, 'addr', 'add', `${LATE_ADDR}/24`, 'dev', `${tag}c`);
  ip('-n', LATE, 'link', 'set', `${tag}c`, 'up');
  assert.equal(fromPeer(url(LATE_ADDR)).error, 'ECONNREFUSED');
  assert.equal(viaLoopback(`${LATE_ADDR}:${port}`).status, 403, 'not yet an address to accept');

  // Renamed tailscale0 (as tailscaled names its tun device): followed.
  // (Taking a link down drops its IPv6 addresses: that one comes after.)
  ip('-n', LATE, 'link', 'set', `${tag}c`, 'down');
  ip('-n', LATE, 'link', 'set', `${tag}c`, 'name', 'tailscale0');
  ip('-n', LATE, 'link', 'set', 'tailscale0', 'up');
  ip('-n', LATE, 'addr', 'add', `${LATE_V6}/64`, 'dev', 'tailscale0', 'nodad');
  await logged(s, /tailscale0 has [0-9a-f.:]+: now listening/, 2, 'tailscale0\'s addresses listened on');
  for (const a of [LATE_ADDR, LATE_V6]) {
    const shown = a.includes(':') ? `[${a}]` : a;
    assert.ok(lines(s, new RegExp(`tailscale0 has ${a.replace(/[.]/g, '\\.')}: now listening on http://${shown.replace(/[.[\]]/g, '\\$&')}:${port}/_mirrorstate/$`)).length === 1, s.stderr);
    assert.ok(s.stdout.includes(`http://${shown}:${port}/_mirrorstate/\n`), `the URL is printed: ${s.stdout}`);
    const r = fromPeer(url(a));
    assert.equal(r.status, 200, `${a}: ${JSON.stringify(r)}`);
  }
  // The Host check follows: the new address is accepted as Host, on any
  // listener; a name still is not.
  assert.equal(fromPeer(url(LATE_ADDR), { Host: `evil.example:${port}` }).status, 403);
  assert.equal(viaLoopback(`${LATE_ADDR}:${port}`).status, 200);
  assert.equal(viaLoopback(`[${LATE_V6}]:${port}`).status, 200);

  // A WebSocket from the peer, through the tailnet address.
  const sock = await peerSocket(`ws://${LATE_ADDR}:${port}${WS_PATH}`);

  // The address goes: the listener is closed (not only unreachable), the
  // Host is no longer accepted, the WebSocket that came through it is closed.
  ip('-n', LATE, 'addr', 'del', `${LATE_ADDR}/24`, 'dev', 'tailscale0');
  await logged(s, /tailscale0 no longer has 100\.64\.8\.1: stopped listening there \(1 client closed\)$/, 1, 'the address dropped');
  assert.ok(!listening(LATE).includes(`${LATE_ADDR}:${port}`), `still listening: ${listening(LATE)}`);
  assert.ok(listening(LATE).includes(`[${LATE_V6}]:${port}`), 'the IPv6 address stays');
  assert.ok(fromPeer(url(LATE_ADDR)).error, 'reachable without its address');
  assert.equal(viaLoopback(`${LATE_ADDR}:${port}`).status, 403, 'a gone address is no longer accepted as Host');
  assert.equal(fromPeer(url(LATE_V6)).status, 200);
  sock.proc.kill();
  await sock.closed;

  // It comes back: listened on again, and only once.
  ip('-n', LATE, 'addr', 'add', `${LATE_ADDR}/24`, 'dev', 'tailscale0');
  await logged(s, /tailscale0 has 100\.64\.8\.1: now listening/, 2, 'listening again');
  assert.equal(fromPeer(url(LATE_ADDR)).status, 200);
  assert.equal(viaLoopback(`${LATE_ADDR}:${port}`).status, 200);
  assert.equal(listening(LATE).filter((a) => a === `${LATE_ADDR}:${port}`).length, 1);

  // The interface goes altogether (tailscaled stopped): both are dropped,
  // loopback serves on.
  ip('-n', LATE, 'link', 'set', 'tailscale0', 'netns', PEER);
  await logged(s, /tailscale0 no longer has/, 3, 'both dropped');
  assert.deepEqual(listening(LATE).filter((a) => a.endsWith(`:${port}`)), [`127.0.0.1:${port}`]);
  assert.equal(fromNs(LATE, `http://127.0.0.1:${port}/_mirrorstate/healthz`).status, 200);
  assert.doesNotMatch(s.stderr, /error|failed/);
  assert.equal(await stopServer(s, WAIT), 0);
});

test('a wildcard --host accepts this machine\'s addresses as Host, those that come later too', { skip }, async () => {
  ip('link', 'add', `${tag}e`, 'type', 'veth', 'peer', 'name', `${tag}f`);
  ip('link', 'set', `${tag}e`, 'netns', LATE);
  ip('link', 'set', `${tag}f`, 'netns', PEER);
  ip('-n', PEER, 'addr', 'add', '100.64.9.2/24', 'dev', `${tag}f`);
  ip('-n', PEER, 'link', 'set', `${tag}f`, 'up');
  ip('-n', LATE, 'addr', 'add', '100.64.9.1/24', 'dev', `${tag}e`);
  ip('-n', LATE, 'link', 'set', `${tag}e`, 'up');
  const s = await serve(['--host', '0.0.0.0'], LATE);
  const port = s.port;
  const hostOk = (addr) => fromNs(LATE, `http://127.0.0.1:${port}/_mirrorstate/healthz`, { Host: `${addr}:${port}` }).status;
  assert.equal(hostOk('100.64.9.1'), 200, 'an address there at start');
  const late = '100.64.9.11';
  assert.equal(hostOk(late), 403, 'not an address of this machine yet');
  ip('-n', LATE, 'addr', 'add', `${late}/24`, 'dev', `${tag}e`);
  await waitFor(() => hostOk(late) === 200, { timeout: WAIT, message: 'the new address accepted as Host' });
  assert.equal(fromPeer(`http://${late}:${port}/_mirrorstate/healthz`).status, 200);
  ip('-n', LATE, 'addr', 'del', `${late}/24`, 'dev', `${tag}e`);
  await waitFor(() => hostOk(late) === 403, { timeout: WAIT, message: 'the gone address refused as Host' });
  assert.equal(hostOk('100.64.9.1'), 200);
  assert.equal(await stopServer(s, WAIT), 0);
});
