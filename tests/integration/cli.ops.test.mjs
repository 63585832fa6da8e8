// The command line as an operator meets it: a port in use, typos, options
// before the command, sizes with units, a second server on the same file,
// progress while loading, --open, and the texts made from the usage table
// (help, man page, completions).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';
import { BIN, request, runCli, setup, waitFor } from '../lib/index.mjs';

const CLEAN_ENV = { MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' };

/** A TCP listener held by this (node) process; resolves with its port. */
async function holdPort(t) {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => srv.close(resolve)));
  return srv.address().port;
}

// ---------------------------------------------------------------- port in use

test('port in use: names the port and the process holding it, suggests --port 0, no library noise', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const port = await holdPort(t);
  const r = await runCli(['serve', '--file', f, '--port', String(port), '--host', '127.0.0.1']);
  assert.equal(r.code, 1, `exit ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1 port ${port}: the port is in use by pid ${process.pid} \\(`));
  assert.match(r.stderr, /--port 0/);
  assert.doesNotMatch(r.stderr, /lws|libwebsockets|ERROR on binding/i, 'library lines leaked into the output');
  assert.equal(r.stdout, '', 'printed a URL although it could not listen');
  assert.equal(fs.existsSync(h.path('.mirrorstate', 'server.json')), false, 'left a runtime file behind');
});

test('port in use, with -v: the library lines are there, at debug level', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const port = await holdPort(t);
  const r = await runCli(['serve', '-v', '--file', f, '--port', String(port), '--host', '127.0.0.1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^mirrorstate: lws: /m);
  assert.doesNotMatch(r.stderr, /^mirrorstate: (warning|error): lws/m);
});

// ---------------------------------------------------------------- typos

test('a mistyped command or option gets "did you mean"', async () => {
  const cases = [
    [['stauts'], /unknown command 'stauts'; did you mean 'status'\?/],
    [['serv', '--file', 'x.json'], /did you mean 'serve'\?/],
    [['serve', '--prot', '1'], /unknown option '--prot' for serve; did you mean '--port'\?/],
    [['serve', '--max-sate=1M'], /unknown option '--max-sate' for serve; did you mean '--max-state'\?/],
    [['watch', '--onc'], /unknown option '--onc' for watch; did you mean '--once'\?/],
    [['--prot', '1', 'serve'], /unknown option '--prot'; did you mean '--port'\?/],
    [['get', '--port', '7420'], /--port is not an option of get, but of serve/],
    [['serve', '--url', 'http://x'], /--url is not an option of serve, but of get, set/],
    [['help', 'wacth'], /did you mean 'watch'\?/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli([...args], { env: CLEAN_ENV });
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
  }
  // Nothing close: no wild guess.
  const r = await runCli(['xyzzy']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'xyzzy'/);
  assert.doesNotMatch(r.stderr, /did you mean/);
});

// ---------------------------------------------------------------- global options

test('options before the command work as after it', async (t) => {
  const h = setup(t);
  const f = h.file('todo.json', { title: 'x' });
  const srv = await h.server({ files: [f] });
  const before = await runCli(['--url', srv.http, 'get', 'todo', '/title'], { env: CLEAN_ENV });
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.stdout, '"x"\n');
  const pretty = await runCli(['--pretty', '--url', srv.http, 'status'], { env: CLEAN_ENV });
  assert.equal(pretty.code, 0, pretty.stderr);
  assert.match(pretty.stdout, /^server /m);
  const eq = await runCli([`--url=${srv.http}`, 'status', '--names'], { env: CLEAN_ENV });
  assert.equal(eq.code, 0, eq.stderr);
  assert.equal(eq.stdout, 'todo\n');
  // serve's own options before the command, too.
  const h2 = setup(t);
  const g = h2.file('g.json', { a: 1 });
  const r = await runCli(['--max-state', '1', 'serve', '--file', g], { env: CLEAN_ENV });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--max-state: expected a size from 64 bytes to 16 GiB, got '1'/);
  const none = await runCli(['--pretty']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no command given/);
});

test('status --names prints one state name per line, nothing when no server answers', async (t) => {
  const h = setup(t);
  h.file('d/a.json', { a: 1 });
  h.file('d/b/c.json', { c: 1 });
  const srv = await h.server({ dir: h.path('d') });
  const r = await runCli(['status', '--names', '--url', srv.http], { env: CLEAN_ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['a', 'b/c']);
  const down = await runCli(['status', '--names', '--url', 'http://127.0.0.1:1'], { env: CLEAN_ENV });
  assert.equal(down.code, 3);
  assert.equal(down.stdout, '');
});

// ---------------------------------------------------------------- sizes

test('sizes take units: 10MB is 10^6, 64MiB and 1k are powers of 1024', async (t) => {
  const h = setup(t);
  // 1500 bytes: over 1k (1024), under 2KB (2000).
  const f = h.file('big.json', { pad: 'x'.repeat(1480) });
  assert.ok(fs.statSync(f).size > 1024 && fs.statSync(f).size < 2000);
  let srv = await h.server({ files: [f], args: ['--max-state', '1k'] });
  await waitFor(() => /big\.json/.test(srv.stderr) && /too large|max-state|exceeds/i.test(srv.stderr), {
    message: `a too-large report with --max-state 1k; stderr:\n${srv.stderr}`,
  });
  let s = await request(srv, '/_mirrorstate/api/states/big');
  assert.notEqual(s.json?.pad, 'x'.repeat(1480), 'loaded a file over --max-state 1k');
  await srv.stop();
  srv = await h.server({ files: [f], args: ['--max-state', '2KB'] });
  s = await request(srv, '/_mirrorstate/api/states/big');
  assert.equal(s.status, 200);
  assert.equal(s.json.pad, 'x'.repeat(1480), '--max-state 2KB refused a 1500-byte file');
  await srv.stop();
  for (const v of ['64MiB', '10MB', '1.5GiB', '65536', '32 MiB']) {
    srv = await h.server({ files: [f], args: ['--max-message', v, '--max-pending', v, '--max-state', v] });
    await srv.stop();
  }
  for (const [v, re] of [['10XB', /'10XB' is not a size/], ['-1', /is not a size/], ['1e6', /is not a size/], ['20GiB', /from 64 bytes to 16 GiB/]]) {
    const r = await runCli(['serve', '--file', f, '--max-state', v, '--port', '0']);
    assert.equal(r.code, 2, `${v}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

// ---------------------------------------------------------------- a second server

test('a second serve on a mirrored file is refused with the first one\'s pid and URL; the first keeps its runtime file', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  fs.mkdirSync(h.path('sub'));
  fs.symlinkSync(f, h.path('sub', 'link.json'));
  const srv = await h.server({ files: [f] });
  const rt = h.path('.mirrorstate', 'server.json');
  const before = fs.readFileSync(rt, 'utf8');
  for (const spelled of [f, './s.json', path.join('sub', '..', 's.json'), h.path('sub', 'link.json')]) {
    const r = await runCli(['serve', '--file', spelled, '--port', '0', '--host', '127.0.0.1'], { cwd: h.dir });
    assert.equal(r.code, 1, `${spelled}: exit ${r.code}; stderr: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`s\\.json is mirrored already by another server \\(pid ${srv.proc.pid}, http://127\\.0\\.0\\.1:${srv.port}\\)`));
    assert.match(r.stderr, new RegExp(`mirrorstate --url http://127\\.0\\.0\\.1:${srv.port} status`));
    assert.equal(r.stdout, '');
  }
  assert.equal(fs.readFileSync(rt, 'utf8'), before, 'a refused server touched the runtime file');
  // The first server is unharmed and still found by the CLI.
  const r = await runCli(['get', 's', '/a'], { cwd: h.dir, env: CLEAN_ENV });
  assert.equal(r.code, 0, r.stderr);
  await srv.stop();
  // Once it has stopped, the file is free again.
  const again = await h.server({ files: [f] });
  await again.stop();
});

test('a server on another file in the same directory leaves the first one\'s runtime file alone', async (t) => {
  const h = setup(t);
  const a = h.file('a.json', { a: 1 });
  const b = h.file('b.json', { b: 1 });
  const first = await h.server({ files: [a] });
  const rt = h.path('.mirrorstate', 'server.json');
  const info = JSON.parse(fs.readFileSync(rt, 'utf8'));
  assert.equal(info.pid, first.proc.pid);
  const second = await h.server({ files: [b] });
  await waitFor(() => /owns its server\.json/.test(second.stderr), { message: `a note that the runtime file is another's; stderr:\n${second.stderr}` });
  assert.equal(JSON.parse(fs.readFileSync(rt, 'utf8')).pid, first.proc.pid, 'the second server took the runtime file over');
  await second.stop();
  assert.ok(fs.existsSync(rt), 'the second server removed the first one\'s runtime file');
  assert.equal(JSON.parse(fs.readFileSync(rt, 'utf8')).pid, first.proc.pid);
  const r = await runCli(['get', 'a', '/a'], { cwd: h.dir, env: CLEAN_ENV });
  assert.equal(r.code, 0, r.stderr);
  await first.stop();
  assert.equal(fs.existsSync(h.path('.mirrorstate')), false, '.mirrorstate left behind');
});

test('--dir servers: a file or a directory below a running --dir is refused; a killed server blocks nobody', async (t) => {
  const h = setup(t);
  h.file('d/a.json', { a: 1 });
  h.file('d/sub/b.json', { b: 1 });
  h.file('d/node_modules/x.json', { x: 1 });
  const srv = await h.server({ dir: h.path('d') });
  for (const args of [['--file', h.path('d', 'sub', 'b.json')], ['--dir', h.path('d', 'sub')], ['--dir', h.path('d')]]) {
    const r = await runCli(['serve', ...args, '--port', '0', '--host', '127.0.0.1']);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`pid ${srv.proc.pid}, http://127\\.0\\.0\\.1:${srv.port}`));
  }
  // What the --dir server does not mirror is free.
  const other = await h.server({ files: [h.path('d', 'node_modules', 'x.json')] });
  await other.stop();
  await srv.kill();
  const after = await h.server({ dir: h.path('d') });
  await after.stop();
});

test('a --dir whose own file another server mirrors is refused', async (t) => {
  const h = setup(t);
  const f = h.file('d/a.json', { a: 1 });
  const srv = await h.server({ files: [f] });
  const r = await runCli(['serve', '--dir', h.path('d'), '--port', '0', '--host', '127.0.0.1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`a\\.json is mirrored already by another server \\(pid ${srv.proc.pid}`));
});

// ---------------------------------------------------------------- progress, --open

test('a slow load says what it loads and how long it took (threshold from MIRRORSTATE_PROGRESS_MS)', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  const srv = await h.server({ files: [f], env: { MIRRORSTATE_PROGRESS_MS: '0' } });
  // stderr is its own pipe: it may be read after the URL on stdout.
  await waitFor(() => /mirrorstate: loaded s\.json/.test(srv.stderr), { message: `progress lines; stderr:\n${srv.stderr}` });
  assert.match(srv.stderr, /mirrorstate: loading s\.json \(0\.0 MiB\)\.\.\./);
  assert.match(srv.stderr, /mirrorstate: loaded s\.json \(0\.0 MiB\) in \d+\.\d s/);
  await srv.stop();
  const quiet = await h.server({ files: [f], args: ['-q'], env: { MIRRORSTATE_PROGRESS_MS: '0' } });
  await quiet.stop();
  assert.doesNotMatch(quiet.stderr, /loading/);
});

test('--open runs xdg-open with the panel URL (the app with --static) when there is a display', async (t) => {
  const h = setup(t);
  const f = h.file('s.json', { a: 1 });
  fs.mkdirSync(h.path('web'));
  const bin = h.path('bin');
  fs.mkdirSync(bin);
  const log = h.path('opened.txt');
  fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" >> '${log}'\n`, { mode: 0o755 });
  const env = { PATH: `${bin}:${process.env.PATH}`, DISPLAY: ':99', WAYLAND_DISPLAY: '' };
  let srv = await h.server({ files: [f], args: ['--open'], env });
  await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('\n'), { message: 'xdg-open was not run' });
  assert.equal(fs.readFileSync(log, 'utf8'), `http://127.0.0.1:${srv.port}/_mirrorstate/\n`);
  await srv.stop();
  fs.rmSync(log);
  srv = await h.server({ files: [f], args: ['--open', '--static', h.path('web')], env });
  await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('\n'), { message: 'xdg-open was not run' });
  assert.equal(fs.readFileSync(log, 'utf8'), `http://127.0.0.1:${srv.port}/\n`);
  await srv.stop();
  // No display: a clear message, the URL to open by hand, and it serves.
  srv = await h.server({ files: [f], args: ['--open'], env: { ...env, DISPLAY: '' } });
  await waitFor(() => /--open: no display/.test(srv.stderr), { message: `no-display message; stderr:\n${srv.stderr}` });
  assert.match(srv.stderr, new RegExp(`open http://127\\.0\\.0\\.1:${srv.port}/_mirrorstate/ in a browser`));
  await srv.stop();
});

// ---------------------------------------------------------------- texts from the table

test('help, man page and completions come from one table: every option of --help is in each', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  const options = [...new Set(help.stdout.match(/--[a-z][a-z-]+/g))];
  assert.ok(options.length > 25, `few options in --help: ${options}`);
  const man = await runCli(['manpage']);
  assert.equal(man.code, 0);
  const manText = man.stdout.replace(/\\-/g, '-');
  const bash = (await runCli(['completion', 'bash'])).stdout;
  const zsh = (await runCli(['completion', 'zsh'])).stdout;
  const fish = (await runCli(['completion', 'fish'])).stdout;
  for (const o of options) {
    assert.ok(manText.includes(o), `man page lacks ${o}`);
    assert.ok(bash.includes(o), `bash completion lacks ${o}`);
    assert.ok(zsh.includes(o), `zsh completion lacks ${o}`);
    assert.ok(fish.includes(`-l ${o.slice(2)}`), `fish completion lacks ${o}`);
  }
  for (const cmd of ['serve', 'get', 'set', 'patch', 'watch', 'history', 'revert', 'status', 'agent-md']) {
    assert.match(help.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
    assert.match(manText, new RegExp(`^\\\\fB${cmd}\\\\fR`, 'm'));
    assert.ok(bash.includes(cmd));
  }
  const bad = await runCli(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bash, zsh or fish/);
  assert.ok(fs.existsSync(BIN));
});
