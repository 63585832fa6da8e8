// How the CLI finds its server without --url: from the directory `serve`
// was started in (the file in a subdirectory), from where the files are,
// from the runtime file; several servers; the per-user registry behind
// `status --all`, its stale entries, and servers that never remove each
// other's files. Every server and CLI here uses a private
// XDG_RUNTIME_DIR, so tests running side by side do not see each other.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pretty, runCli, setup, waitFor } from './harness.mjs';

const CLI_GUARD = 20000;

/** A private registry: XDG_RUNTIME_DIR for the servers and CLIs of a test. */
function registry(t) {
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorstate-xdg-'));
  fs.chmodSync(xdg, 0o700);
  t.after(() => fs.rmSync(xdg, { recursive: true, force: true }));
  const env = { XDG_RUNTIME_DIR: xdg, MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' };
  return { xdg, dir: path.join(xdg, 'mirrorstate'), env };
}

const lines = (text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const entries = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : []);

/** `serve` started in cwd with files given relative to it. */
async function serveIn(h, reg, cwd, files, args = []) {
  fs.mkdirSync(cwd, { recursive: true });
  const srv = await h.server({ cwd, files, args, env: reg.env });
  await waitFor(() => entries(reg.dir).some((f) => f.startsWith(`${srv.proc.pid}-`)), { message: 'registry entry' });
  return srv;
}

const cli = (reg, cwd, args) => runCli(args, { cwd, env: reg.env, timeout: CLI_GUARD });

test('serve --file app/state.json started in D: every command run from D (and below D) finds it', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  h.file('app/state.json', { title: 'T', items: [{ id: 1, done: false }] });
  const srv = await serveIn(h, reg, h.dir, ['app/state.json'], ['--log', 'events.log']);
  const D = h.dir;

  let r = await cli(reg, D, ['get', 'state', '/title']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"T"\n');
  assert.equal(r.stderr, '', 'one server: no notice');
  r = await cli(reg, D, ['set', 'state', '/title', '"U"']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { type: 'ack', name: 'state', version: 2 });
  r = await cli(reg, D, ['patch', 'state', '[{"op":"replace","path":"/items/0/done","value":true}]']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(reg, D, ['history', 'state']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((e) => e.version), [2, 3]);
  r = await cli(reg, D, ['watch', 'state', '--once', '--since', '1', '--timeout', '10']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(reg, D, ['status']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.url, srv.http);
  assert.equal(s.start_dir, fs.realpathSync(D));
  assert.equal(s.log, path.join(fs.realpathSync(D), 'events.log'));
  assert.equal(s.pid, srv.proc.pid);

  // Below the start directory, beside the app's directory.
  const src = h.path('src', 'components');
  fs.mkdirSync(src, { recursive: true });
  r = await cli(reg, src, ['get', 'state', '/title']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"U"\n');
  // Inside the state's directory, through the runtime file as before.
  r = await cli(reg, h.path('app'), ['status']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).from, h.path('app', '.mirrorstate', 'server.json'));
});

test('a server whose files lie below here is found from here, even if started elsewhere', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  h.file('work/site/state.json', { n: 1 });
  // Started from another directory, with an absolute path.
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorstate-elsewhere-'));
  t.after(() => fs.rmSync(elsewhere, { recursive: true, force: true }));
  await serveIn(h, reg, elsewhere, [h.path('work', 'site', 'state.json')]);
  const r = await cli(reg, h.path('work'), ['get', 'state', '/n']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1\n');
});

test('several servers: the nearest is used, the notice says which and how to choose; --state-dir and --url choose', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  h.file('a/one.json', { who: 'A' });
  h.file('b/two.json', { who: 'B' });
  const A = await serveIn(h, reg, h.dir, ['a/one.json']);
  const B = await serveIn(h, reg, h.path('b'), ['two.json']);

  // From D: A was started here (nearest); B only mirrors a file below.
  let r = await cli(reg, h.dir, ['status']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).url, A.http);
  assert.match(r.stderr, /2 servers belong here; using pid \d+, http:\/\/127\.0\.0\.1:\d+, mirrors a\/one\.json; also: pid \d+, http:\/\/127\.0\.0\.1:\d+, mirrors b\/two\.json/);
  assert.match(r.stderr, new RegExp(`using pid ${A.proc.pid}, ${A.http}`));
  assert.match(r.stderr, /Choose one with --url URL or --state-dir DIR \(mirrorstate status --all lists them\)/);

  // From D/b: B was started there and its runtime file is there.
  r = await cli(reg, h.path('b'), ['get', 'two', '/who']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"B"\n');
  assert.match(r.stderr, new RegExp(`using pid ${B.proc.pid}`));

  // --state-dir picks from D what D/b would.
  r = await cli(reg, h.dir, ['get', 'two', '/who', '--state-dir', 'b']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"B"\n');
  // --url decides alone, with no notice.
  r = await cli(reg, h.dir, ['get', 'two', '/who', '--url', B.http]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  r = await cli(reg, h.dir, ['status', '--state-dir', 'nowhere']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--state-dir nowhere is not a directory/);
});

test('the registry: one private entry per server; status --all lists every server of yours; removed on stop', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  h.file('one/state.json', { n: 1 });
  h.file('two/state.json', { n: 2 });
  const s1 = await serveIn(h, reg, h.path('one'), ['state.json'], ['--log', 'events.log']);
  const s2 = await serveIn(h, reg, h.path('two'), ['state.json', 'extra.json'], ['--token', 'tok']);

  assert.equal(fs.statSync(reg.dir).mode & 0o777, 0o700);
  for (const f of entries(reg.dir)) assert.equal(fs.statSync(path.join(reg.dir, f)).mode & 0o777, 0o600, f);
  const [e1] = entries(reg.dir).filter((f) => f.startsWith(`${s1.proc.pid}-`)).map((f) => JSON.parse(fs.readFileSync(path.join(reg.dir, f), 'utf8')));
  const real = (p) => fs.realpathSync(p);
  assert.equal(e1.url, s1.http);
  assert.equal(e1.start_dir, real(h.path('one')));
  assert.deepEqual(e1.files, [real(h.path('one', 'state.json'))]);
  assert.equal(e1.log, path.join(real(h.path('one')), 'events.log'));
  assert.equal(e1.runtime, path.join(real(h.path('one')), '.mirrorstate', 'server.json'));
  assert.equal(e1.token_required, false);
  assert.equal(JSON.stringify(entries(reg.dir).map((f) => fs.readFileSync(path.join(reg.dir, f), 'utf8'))).includes('tok"'), false, 'no token in the registry');

  // From a directory no server belongs to.
  const r = await cli(reg, os.tmpdir(), ['status', '--all']);
  assert.equal(r.code, 0, r.stderr);
  const all = lines(r.stdout);
  assert.deepEqual(all.map((e) => e.pid), [s1.proc.pid, s2.proc.pid]);
  assert.deepEqual(all.map((e) => e.reachable), [true, true], 'the token comes from the runtime file');
  assert.deepEqual(all[1].states.map((s) => s.name).sort(), ['extra', 'state']);
  assert.equal(all[0].states[0].version, 1);
  const table = await cli(reg, h.dir, ['status', '--all', '--pretty']);
  assert.match(table.stdout, /^PID\s+URL\s+STARTED IN\s+STATES\n/);
  assert.match(table.stdout, new RegExp(`${s2.proc.pid}\\s+${s2.http}\\s+two\\s+`));

  await s1.stop();
  assert.deepEqual(entries(reg.dir).map((f) => f.split('-')[0]), [String(s2.proc.pid)], 'the stopped server removed its entry only');
  await s2.stop();
  assert.deepEqual(entries(reg.dir), []);
  const none = await cli(reg, h.dir, ['status', '--all']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no MirrorState server of yours is running/);
});

test('a stale registry entry (its server was killed) is ignored and removed; untrusted entries are skipped', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  h.file('k/state.json', { n: 1 });
  h.file('live/state.json', { n: 2 });
  const killed = await serveIn(h, reg, h.path('k'), ['state.json']);
  const live = await serveIn(h, reg, h.path('live'), ['state.json']);
  await killed.kill();
  assert.equal(entries(reg.dir).length, 2, 'SIGKILL leaves the entry behind');
  // Another user's file, or one anybody may write, is never used.
  const forged = path.join(reg.dir, '1-forged.json');
  fs.writeFileSync(forged, JSON.stringify({ pid: 1, url: 'http://127.0.0.1:1', start_dir: '/', files: [] }), { mode: 0o666 });
  fs.chmodSync(forged, 0o666);

  const r = await cli(reg, h.path('k'), ['status', '--all']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((e) => e.pid), [live.proc.pid]);
  assert.match(r.stderr, /ignoring .*1-forged\.json: writable by everyone/);
  const left = entries(reg.dir);
  assert.equal(left.length, 2, `the stale entry was removed: ${left}`);
  assert.ok(left.includes('1-forged.json'), 'the forged one is left alone');
  assert.ok(left.some((f) => f.startsWith(`${live.proc.pid}-`)));
  // The killed server's runtime file is still there; from its directory
  // the CLI says it cannot reach it (no other server belongs there).
  const g = await cli(reg, h.path('k'), ['get', 'state']);
  assert.equal(g.code, 3);
  assert.match(g.stderr, /cannot reach/);
});

test('two servers in one directory never remove each other\'s runtime file or registry entry', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  h.file('x.json', { who: 'x' });
  h.file('y.json', { who: 'y' });
  h.file('z.json', { who: 'z' });
  const rt = h.path('.mirrorstate', 'server.json');
  fs.writeFileSync(h.path('token'), 'b-secret\n', { mode: 0o600 });
  const A = await serveIn(h, reg, h.dir, ['x.json']);
  const B = await serveIn(h, reg, h.dir, ['y.json'], ['--token-file', 'token']);
  assert.equal(JSON.parse(fs.readFileSync(rt, 'utf8')).pid, A.proc.pid, 'the first one owns the runtime file');
  // B has no runtime file: its registry entry says where its token is.
  const all = lines((await cli(reg, h.dir, ['status', '--all'])).stdout);
  assert.deepEqual(all.map((e) => [e.pid, e.reachable, e.states?.[0]?.name]), [[A.proc.pid, true, 'x'], [B.proc.pid, true, 'y']]);

  await B.stop();
  assert.equal(JSON.parse(fs.readFileSync(rt, 'utf8')).pid, A.proc.pid, 'B left A\'s runtime file');
  assert.ok(entries(reg.dir).some((f) => f.startsWith(`${A.proc.pid}-`)), 'B left A\'s registry entry');
  let r = await cli(reg, h.dir, ['get', 'x', '/who']);
  assert.equal(r.code, 0, r.stderr);

  const C = await serveIn(h, reg, h.dir, ['z.json']);
  await A.stop();
  assert.equal(fs.existsSync(rt), false, 'A removed its own runtime file');
  assert.deepEqual(entries(reg.dir).map((f) => f.split('-')[0]), [String(C.proc.pid)], 'A left C\'s registry entry');
  assert.ok(fs.existsSync(h.path('.mirrorstate', 'z.json.lock')), 'A left C\'s lock');
  // Without a runtime file here, the registry still leads to C.
  r = await cli(reg, h.dir, ['get', 'z', '/who']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"z"\n');
  await C.stop();
  assert.deepEqual(entries(reg.dir), []);
});

test('status exits 1 when a file is invalid, naming file, line and column; it shows the event log and the start directory', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  const file = h.file('app/state.json', { title: 'x', items: [] });
  const srv = await serveIn(h, reg, h.dir, ['app/state.json'], ['--log', 'events.log']);
  const page = await h.client(srv);
  await page.subscribe('state');
  let r = await cli(reg, h.dir, ['status']);
  assert.equal(r.code, 0, r.stderr);

  fs.writeFileSync(file, '{\n  "title": "x",\n  "items": [}\n');
  await page.next({ type: 'error', code: 'file_invalid' });
  r = await cli(reg, h.dir, ['status']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /app\/state\.json:3:13: the file of state "state" is not valid JSON/);
  const s = JSON.parse(r.stdout);
  assert.equal(s.states[0].status, 'invalid');
  assert.equal(s.log, path.join(fs.realpathSync(h.dir), 'events.log'));
  assert.equal(s.start_dir, fs.realpathSync(h.dir));

  r = await cli(reg, h.dir, ['status', '--pretty']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /\nlog\s+\S+events\.log\n/);
  assert.match(r.stdout, /\nstarted\s+in \S+ \(pid \d+\)\n/);

  fs.writeFileSync(file, pretty({ title: 'fixed', items: [] }));
  await page.next({ type: 'patch', name: 'state' });
  r = await cli(reg, h.dir, ['status']);
  assert.equal(r.code, 0, r.stderr);
});

test('agent-md with a running server: first this project\'s states, files, versions, log and URL, then the guide', async (t) => {
  const h = setup(t);
  const reg = registry(t);
  h.file('app/todo.json', { items: [] });
  const bad = h.file('app/settings.json', { dark: false });
  fs.mkdirSync(h.path('logs'), { recursive: true });
  const srv = await serveIn(h, reg, h.dir, ['app/todo.json', 'app/settings.json'], ['--log', 'logs/events.log']);
  await cli(reg, h.dir, ['set', 'todo', '/items/-', '{"id":1}']);
  fs.writeFileSync(bad, '{"dark": tru}\n');
  await waitFor(async () => (await cli(reg, h.dir, ['status'])).code === 1, { message: 'settings invalid' });

  const r = await cli(reg, h.path('logs'), ['agent-md']);
  assert.equal(r.code, 0, r.stderr);
  const [header, guide] = [r.stdout.slice(0, r.stdout.indexOf('# Working on an app')), r.stdout.slice(r.stdout.indexOf('# Working on an app'))];
  assert.match(header, /^# This project/);
  assert.ok(header.includes(srv.http), 'the server URL');
  assert.match(header, /\| `todo` \| `\.\.\/app\/todo\.json` \| 2 \| parses \|/);
  assert.match(header, /\| `settings` \| `\.\.\/app\/settings\.json` \| 1 \| does not parse: line 1, column \d+: /);
  assert.match(header, /The event log is `events\.log`/);
  assert.match(header, /started in `\.\.`/);
  assert.match(header, /mirrorstate get todo/, 'examples with a real name');
  assert.match(guide, /^# Working on an app mirrored by MirrorState\n/);

  // Without a server: the guide alone.
  await srv.stop();
  const none = await cli(reg, h.path('logs'), ['agent-md']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, guide);
});
