// Remote access as on a tailnet: a network namespace with an interface
// named tailscale0 (a veth end carrying a 100.64.x.y address) and a peer
// namespace on the other end. Needs root for `ip netns`; without it, every
// test is skipped with the reason printed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeDir, runCli, sleep, startServer, stopServer, tempDir } from '../lib/index.mjs';

const tag = `ms${process.pid}`;
const SRV = `${tag}-srv`;
const PEER = `${tag}-peer`;
const SRV_ADDR = '100.64.7.1';
const PEER_ADDR = '100.64.7.2';
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
}

if (!skip) {
  setupNamespaces();
  after(() => {
    spawnSync('ip', ['netns', 'del', SRV]);
    spawnSync('ip', ['netns', 'del', PEER]);
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

/** Starts mirrorstate inside the server namespace; resolves with the
 * server once it printed every URL line. */
async function serve(args) {
  const file = path.join(dir, `s${++served}.json`);
  fs.writeFileSync(file, '{"hello": "tailnet"}\n');
  const s = await startServer({ files: [file], host: null, args, env: TAILNET_ENV, wrap: ['ip', 'netns', 'exec', SRV], timeout: WAIT });
  await sleep(50); // every line of the burst
  s.urls = s.stdout.split('\n').filter((l) => l.startsWith('http://'));
  return s;
}

/** GET url from the peer namespace; resolves {status, body} or {error}. */
function fromPeer(url, headers = {}) {
  // node:http, not fetch: fetch drops a Host header silently.
  const script = `
    const req = require('http').get(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)}, timeout: 3000 }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; });
      res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message })));`;
  const r = spawnSync('ip', ['netns', 'exec', PEER, process.execPath, '-e', script], { timeout: WAIT });
  return JSON.parse(String(r.stdout).trim() || '{"error":"no output"}');
}

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

test('--host tailscale without a tailscale0 interface fails clearly', { skip }, async () => {
  const file = path.join(dir, 'none.json');
  const r = await runCli(['serve', '--file', file, '--host', 'tailscale'], { wrap: ['ip', 'netns', 'exec', PEER], timeout: WAIT });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /tailscale0/);
});
