// Command line: help, version, configuration errors, an invalid file at start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import test from 'node:test';
import { BIN, QUIET, projectVersion, readText, runCli, setup, sleep, waitFor } from '../lib/index.mjs';

test('--help exits 0 and describes serve', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stdout, /\bserve\b/);
  assert.match(r.stdout, /--file/);
});

test('--version prints the version and exits 0', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
  assert.ok(r.stdout.includes(projectVersion()), `stdout: ${r.stdout}`);
});

async function expectConfigError(args, pattern) {
  const r = await runCli(['serve', ...args, '--port', '0', '--host', '127.0.0.1']);
  assert.equal(r.code, 2, `exit ${JSON.stringify({ code: r.code, signal: r.signal })}; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  assert.match(r.stderr, /^mirrorstate: error: /m);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stdout, /https?:\/\//, 'printed a URL although the configuration is bad');
  return r;
}

test('--file in a directory that does not exist: exit 2 with a clear message', async (t) => {
  const h = setup(t);
  const f = h.path('no-such-dir', 'state.json');
  await expectConfigError(['--file', f], /no-such-dir/);
  assert.equal(fs.existsSync(h.path('no-such-dir')), false);
});

test('a directory given as --file: exit 2 with a clear message', async (t) => {
  const h = setup(t);
  fs.mkdirSync(h.path('adir.json'));
  await expectConfigError(['--file', h.path('adir.json')], /adir\.json/);
});

test('an unreadable file: exit 2 with a clear message', async (t) => {
  const h = setup(t);
  const f = h.file('secret.json', { a: 1 });
  fs.chmodSync(f, 0o000);
  if (process.getuid && process.getuid() === 0) {
    // root reads anything: run the server as an unprivileged user instead.
    fs.chmodSync(h.dir, 0o755);
    const probe = spawnSync(BIN, ['--version'], { uid: 65534, gid: 65534 });
    if (probe.error || probe.status !== 0) {
      t.skip(`running as root and the binary cannot run as uid 65534 (${probe.error?.code ?? `exit ${probe.status}`}), so unreadability cannot be tested`);
      return;
    }
    const r = spawnSync(BIN, ['serve', '--file', f, '--port', '0', '--host', '127.0.0.1'], {
      uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10000,
    });
    assert.equal(r.status, 2, `exit ${r.status} (signal ${r.signal}); stdout: ${r.stdout}; stderr: ${r.stderr}`);
    assert.match(r.stderr, /^mirrorstate: error: /m);
    assert.match(r.stderr, /secret\.json/);
  } else {
    await expectConfigError(['--file', f], /secret\.json/);
  }
});

test('unknown option and unknown command: non-zero exit and a message', async () => {
  for (const args of [['serve', '--no-such-option'], ['no-such-command']]) {
    const r = await runCli(args);
    assert.notEqual(r.code, 0, `${args.join(' ')} exited 0`);
    assert.equal(r.signal, null);
    assert.ok(r.stderr.length > 0, `${args.join(' ')} printed nothing on stderr`);
  }
});

test('a file holding invalid JSON at start: reported with line:column, server runs, file never overwritten', async (t) => {
  const h = setup(t);
  const invalid = '{\n  "a": 1\n  "b": 2\n}\n';
  const f = h.file('s.json', invalid);
  const srv = await h.server({ files: [f] });
  await waitFor(() => /s\.json/.test(srv.stderr) && /\b3:3\b|line 3\D+column 3|line 3\D+col 3/i.test(srv.stderr), {
    message: `a report of s.json at 3:3 on stderr; stderr is:\n${srv.stderr}`,
  });
  const a = await h.client(srv);
  const b = await h.client(srv);
  const snap = await a.subscribe('s', { init: true });
  assert.equal(snap.version, 1);
  assert.deepEqual(snap.state, { init: true });
  const e = await a.next({ type: 'error' });
  assert.equal(e.code, 'file_invalid');
  assert.equal(e.line, 3);
  assert.equal(e.column, 3);
  await b.subscribe('s');
  await a.patchAcked('s', [{ op: 'add', path: '/more', value: 1 }]);
  const p = await b.next({ type: 'patch' });
  assert.deepEqual(p.ops, [{ op: 'add', path: '/more', value: 1 }]);
  await sleep(QUIET);
  assert.equal(readText(f), invalid, 'the invalid file was overwritten');
  await srv.stop();
  assert.equal(readText(f), invalid, 'the invalid file was overwritten at shutdown');
});
