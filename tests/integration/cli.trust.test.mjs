// The CLI trusts only a runtime file (.mirrorstate/server.json) that the
// user owns and that nobody else can write, in a .mirrorstate directory of
// the same kind: the file says where the CLI sends its requests, and with
// them the token from --token or MIRRORSTATE_TOKEN. Any other runtime file
// is skipped with a warning that says why. A fake server records what
// reaches it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runCli, setup } from '../lib/index.mjs';

const NOBODY = 65534;
const CLEAN_ENV = { MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' };

/** An HTTP server that answers like MirrorState and records each request. */
async function fakeServer(t) {
  const seen = [];
  const srv = http.createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-MirrorState-Version', '1');
    res.end(JSON.stringify({ a: 1 }));
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => srv.close(r)));
  return { url: `http://127.0.0.1:${srv.address().port}`, seen };
}

/** Writes DIR/.mirrorstate/server.json naming url, as `serve` would. */
function runtimeFile(dir, url) {
  const rtdir = path.join(dir, '.mirrorstate');
  fs.mkdirSync(rtdir, { recursive: true, mode: 0o700 });
  const file = path.join(rtdir, 'server.json');
  fs.writeFileSync(file, JSON.stringify({ url, pid: 1, session: 'x', states: ['s'] }), { mode: 0o600 });
  return file;
}

/** `get s` from cwd with a token from the environment and from --token. */
async function getWithTokens(cwd) {
  const env = await runCli(['get', 's'], { cwd, env: { ...CLEAN_ENV, MIRRORSTATE_TOKEN: 'env-secret' } });
  const opt = await runCli(['get', 's', '--token', 'opt-secret'], { cwd, env: CLEAN_ENV });
  return { env, opt };
}

test('a runtime file of your own is used, with your token (the control case)', async (t) => {
  const h = setup(t);
  const fake = await fakeServer(t);
  runtimeFile(h.dir, fake.url);
  const { env, opt } = await getWithTokens(h.dir);
  assert.equal(env.code, 0, env.stderr);
  assert.equal(opt.code, 0, opt.stderr);
  assert.deepEqual(fake.seen.map((r) => r.authorization), ['Bearer env-secret', 'Bearer opt-secret']);
});

const cases = [
  {
    name: 'owned by another user',
    rootOnly: true,
    spoil: (file) => fs.chownSync(file, NOBODY, NOBODY),
    why: /owned by uid 65534, not by you/,
  },
  { name: 'writable by its group', spoil: (file) => fs.chmodSync(file, 0o620), why: /writable by its group/ },
  { name: 'writable by everyone', spoil: (file) => fs.chmodSync(file, 0o606), why: /writable by everyone/ },
  {
    name: 'in a .mirrorstate directory anyone can write',
    spoil: (file) => fs.chmodSync(path.dirname(file), 0o777),
    why: /\.mirrorstate: writable by everyone/,
  },
  {
    name: 'in a .mirrorstate directory owned by another user',
    rootOnly: true,
    spoil: (file) => fs.chownSync(path.dirname(file), NOBODY, NOBODY),
    why: /\.mirrorstate: owned by uid 65534/,
  },
  {
    name: 'a symlink to a file of yours',
    spoil: (file) => {
      fs.renameSync(file, file + '.real');
      fs.symlinkSync(file + '.real', file);
    },
    why: /not a regular file/,
  },
  {
    name: 'a FIFO',
    spoil: (file) => {
      fs.unlinkSync(file);
      assert.equal(spawnSync('mkfifo', [file]).status, 0);
    },
    why: /not a regular file/,
  },
];

for (const c of cases) {
  // Only root can give a file to another user; every CI run is root.
  const opts = c.rootOnly && process.getuid() !== 0 ? { skip: 'needs root to chown' } : {};
  test(`a runtime file ${c.name} is ignored, says why, and gets no token`, opts, async (t) => {
    const h = setup(t);
    const fake = await fakeServer(t);
    const file = runtimeFile(h.dir, fake.url);
    c.spoil(file);
    const { env, opt } = await getWithTokens(h.dir);
    assert.deepEqual(fake.seen, [], 'a request reached the URL of a file that is not to be trusted');
    for (const r of [env, opt]) {
      assert.match(r.stderr, /ignoring .*\.mirrorstate/);
      assert.match(r.stderr, c.why);
      assert.notEqual(r.code, 0);
    }
  });
}

test('an untrusted runtime file is skipped for a trusted one further up', async (t) => {
  const h = setup(t);
  const good = await fakeServer(t);
  const bad = await fakeServer(t);
  runtimeFile(h.dir, good.url);
  const sub = path.join(h.dir, 'app');
  fs.chmodSync(runtimeFile(sub, bad.url), 0o666);
  const r = await runCli(['get', 's'], { cwd: sub, env: { ...CLEAN_ENV, MIRRORSTATE_TOKEN: 'env-secret' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /ignoring .*app\/\.mirrorstate\/server\.json: writable by everyone/);
  assert.deepEqual(bad.seen, []);
  assert.deepEqual(good.seen.map((x) => x.authorization), ['Bearer env-secret']);
});
