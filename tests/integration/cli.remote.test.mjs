// The CLI subcommands that talk to a running server (get, set, patch,
// watch, history, revert, status, agent-md) and the runtime file that lets
// them find it. Every CLI run is bounded; nothing asserts on timing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ISO_TIME, ROOT, pretty, readText, request, runCli, setup, startCli, waitFor, waitForFile } from '../lib/index.mjs';

// A port nothing listens on: connect() is refused at once.
const DOWN = 'http://127.0.0.1:1';
// The CLI must not pick up a server from the caller's environment.
const CLEAN_ENV = { MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' };
const CLI_GUARD = 20000;

const TODO = { title: 'Groceries', items: [{ id: 1, text: 'milk', done: false }, { id: 2, text: 'eggs', done: false }] };

/** Run the CLI against srv (by --url unless opts.cwd finds the runtime file). */
function cli(srv, args, { cwd, env, useUrl = true } = {}) {
  const a = useUrl && srv ? [...args, '--url', srv.http] : args;
  return runCli(a, { cwd, env: { ...CLEAN_ENV, ...env }, timeout: CLI_GUARD });
}

/** Start the CLI and return a handle whose .done resolves like runCli. */
function cliAsync(srv, args, { cwd, env } = {}) {
  return startCli([...args, '--url', srv.http], { cwd, env: { ...CLEAN_ENV, ...env }, timeout: CLI_GUARD });
}

const lines = (text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** The runtime file is written right after the URL line: wait for it. */
const runtimeFile = (dir) => waitFor(() => fs.existsSync(path.join(dir, '.mirrorstate', 'server.json')) && path.join(dir, '.mirrorstate', 'server.json'), { message: 'runtime file' });

async function todoServer(t, value = TODO, opts = {}) {
  const h = setup(t);
  const file = h.file('todo.json', value);
  const srv = await h.server({ files: [file], ...opts });
  await runtimeFile(h.dir);
  return { h, file, srv };
}

// ---------------------------------------------------------------- get

test('get: the whole state, a pointer, NAME left out, --pretty', async (t) => {
  const { srv } = await todoServer(t);
  let r = await cli(srv, ['get', 'todo']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), TODO);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'one line by default');

  r = await cli(srv, ['get', 'todo', '/items/1/text']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"eggs"\n');

  r = await cli(srv, ['get']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), TODO);

  r = await cli(srv, ['get', '/items/0']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), TODO.items[0]);

  r = await cli(srv, ['get', 'todo', '--pretty']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, pretty(TODO), 'pretty output reads like the file');
});

test('get: unknown state exits 1 and lists the states; nothing at the pointer exits 1', async (t) => {
  const { srv } = await todoServer(t);
  let r = await cli(srv, ['get', 'nope']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unknown state "nope".*todo/);

  r = await cli(srv, ['get', 'todo', '/items/9']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothing at \/items\/9/);
});

test('get: a malformed pointer is a usage error (exit 2)', async (t) => {
  const { srv } = await todoServer(t);
  for (const p of ['items', '/a~2b']) {
    const r = await cli(srv, ['get', 'todo', p]);
    assert.equal(r.code, 2, `${p}: ${r.stderr}`);
    assert.match(r.stderr, /JSON Pointer/);
  }
});

test('get: NAME left out while several states are mirrored: exit 2 naming them', async (t) => {
  const h = setup(t);
  const a = h.file('a.json', { a: 1 });
  const b = h.file('b.json', { b: 2 });
  const srv = await h.server({ files: [a, b] });
  const r = await cli(srv, ['get']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /2 states.*a, b/);
  const ok = await cli(srv, ['get', 'b', '/b']);
  assert.equal(ok.stdout, '2\n');
});

test('get: a --file that does not exist yet is not found (exit 1)', async (t) => {
  const h = setup(t);
  const srv = await h.server({ files: [h.path('later.json')] });
  const r = await cli(srv, ['get', 'later']);
  assert.equal(r.code, 1, r.stderr);
});

test('every subcommand exits 3 when no server answers', async () => {
  const cmds = [['get', 'todo'], ['set', 'todo', '/a', '1'], ['patch', 'todo', '[]'], ['watch', '--timeout', '5'],
    ['history', 'todo'], ['revert', 'todo', '1'], ['status']];
  for (const c of cmds) {
    const r = await runCli([...c, '--url', DOWN], { env: CLEAN_ENV, timeout: CLI_GUARD });
    assert.equal(r.code, 3, `${c.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /cannot reach/, c.join(' '));
  }
  const s = await runCli(['status', '--url', DOWN], { env: CLEAN_ENV, timeout: CLI_GUARD });
  assert.deepEqual(JSON.parse(s.stdout), { reachable: false, url: DOWN, from: '--url' });
});

// ---------------------------------------------------------------- set and patch

test('set: replaces, adds, appends, replaces the whole state; the file and the page follow with origin api', async (t) => {
  const { h, file, srv } = await todoServer(t);
  const page = await h.client(srv);
  await page.subscribe('todo');

  let r = await cli(srv, ['set', 'todo', '/items/0/done', 'true']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { type: 'ack', name: 'todo', version: 2 });
  const m = await page.next({ type: 'patch', version: 2 });
  assert.equal(m.origin, 'api');
  assert.deepEqual(m.ops, [{ op: 'replace', path: '/items/0/done', value: true }]);

  r = await cli(srv, ['set', 'todo', '/items/1', '{"id":2,"text":"butter","done":false}']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(srv, ['set', 'todo', '/items/-', '{"id":3,"text":"bread","done":false}']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(srv, ['set', 'todo', '/count', '-1']);
  assert.equal(r.code, 0, `a negative number is a value, not an option: ${r.stderr}`);
  const want = {
    title: 'Groceries',
    items: [{ id: 1, text: 'milk', done: true }, { id: 2, text: 'butter', done: false }, { id: 3, text: 'bread', done: false }],
    count: -1,
  };
  await waitForFile(file, pretty(want));
  await waitFor(() => JSON.stringify(page.replica('todo').state) === JSON.stringify(want), { message: 'page replica' });

  r = await cli(srv, ['set', 'todo', '', '{"fresh":true}']);
  assert.equal(r.code, 0, r.stderr);
  await waitForFile(file, pretty({ fresh: true }));
});

test('set: a value from stdin with "-"', async (t) => {
  const { file, srv } = await todoServer(t);
  const r = await runCli(['set', 'todo', '/title', '-', '--url', srv.http], { env: CLEAN_ENV, input: '"from stdin"\n', timeout: CLI_GUARD });
  assert.equal(r.code, 0, r.stderr);
  await waitForFile(file, (text) => JSON.parse(text).title === 'from stdin');
});

test('set: a JSON_VALUE that is not JSON is a usage error with its position, and nothing changes', async (t) => {
  const { file, srv } = await todoServer(t);
  let r = await cli(srv, ['set', 'todo', '/title', 'Weekend']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not valid JSON.*line 1, column 1/);
  assert.match(r.stderr, /'"Weekend"'/, 'hints at the quotes');

  r = await cli(srv, ['set', 'todo', '/title', '{"a":\n 1,}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /line 2, column 4/);

  r = await cli(srv, ['set', 'todo', 'title', '1']);
  assert.equal(r.code, 2, 'pointer without a leading slash');
  assert.equal(readText(file), pretty(TODO));
  const g = await cli(srv, ['get', 'todo']);
  assert.deepEqual(JSON.parse(g.stdout), TODO);
});

test('set: a path whose parent does not exist is a conflict (exit 1)', async (t) => {
  const { srv } = await todoServer(t);
  const r = await cli(srv, ['set', 'todo', '/no/such/key', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /conflict/);
});

test('patch: applies ops; a failing test op applies nothing (exit 1); malformed ops exit 2', async (t) => {
  const { file, srv } = await todoServer(t);
  let r = await cli(srv, ['patch', 'todo', '[{"op":"test","path":"/items/1/id","value":2},{"op":"remove","path":"/items/1"}]']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { type: 'ack', name: 'todo', version: 2 });
  const after = { ...TODO, items: [TODO.items[0]] };
  await waitForFile(file, pretty(after));

  r = await cli(srv, ['patch', 'todo', '[{"op":"test","path":"/title","value":"other"},{"op":"replace","path":"/title","value":"x"}]']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /conflict/);

  r = await cli(srv, ['patch', 'todo', '[{"op":"frobnicate","path":"/title"}]']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid_patch/);

  r = await cli(srv, ['patch', 'todo', '{"op":"remove","path":"/title"}']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /array/);

  r = await cli(srv, ['patch', 'todo', '[{"op":']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /line 1, column 8/);

  r = await cli(srv, ['patch', 'nope', '[]']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown state "nope"/);

  const s = lines((await cli(srv, ['status'])).stdout)[0];
  assert.equal(s.states[0].version, 2, 'the failed patches spent no version');
  assert.equal(readText(file), pretty(after));
});

// ---------------------------------------------------------------- history and revert

test('history: JSON lines oldest first with each change described, -n, --pretty table of the descriptions; revert (reset) goes back as a new version and lists what it discarded', async (t) => {
  const { file, srv } = await todoServer(t);
  for (const v of ['"a"', '"b"', '"c"']) assert.equal((await cli(srv, ['set', 'todo', '/title', v])).code, 0);

  let r = await cli(srv, ['history', 'todo']);
  assert.equal(r.code, 0, r.stderr);
  const entries = lines(r.stdout);
  assert.deepEqual(entries.map((e) => e.version), [2, 3, 4]);
  assert.equal(entries[0].name, 'todo');
  assert.equal(entries[0].origin, 'api');
  assert.deepEqual(entries[2].ops, [{ op: 'replace', path: '/title', value: 'c' }]);
  assert.deepEqual(entries[2].inverse, [{ op: 'replace', path: '/title', value: 'b' }]);
  assert.deepEqual(entries[2].desc, ['title: "b" \u2192 "c"']);
  assert.match(entries[0].time, ISO_TIME);

  r = await cli(srv, ['history', '-n', '1']);
  assert.deepEqual(lines(r.stdout).map((e) => e.version), [4]);

  r = await cli(srv, ['history', 'todo', '--pretty']);
  assert.match(r.stdout, /^VERSION\s+TIME\s+ORIGIN\s+CHANGE\n/);
  assert.match(r.stdout, /\n4\s+\S+\s+api\s+title: "b" \u2192 "c"\n/);

  r = await cli(srv, ['revert', 'todo', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { type: 'ack', name: 'todo', version: 5, discarded: [3, 4] });
  assert.match(r.stderr, /revert discarded the changes of versions 3 \(api\), 4 \(api\)/);
  await waitForFile(file, pretty({ ...TODO, title: 'a' }));
});

test('history and revert: unknown state, unknown version, bad VERSION', async (t) => {
  const { srv } = await todoServer(t);
  let r = await cli(srv, ['history', 'nope']);
  assert.equal(r.code, 1);
  r = await cli(srv, ['revert', 'todo', '99']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown_version/);
  r = await cli(srv, ['revert', 'todo', 'latest']);
  assert.equal(r.code, 2);
  r = await cli(srv, ['revert', 'todo']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage: mirrorstate revert NAME VERSION/);
});

// ---------------------------------------------------------------- status

test('status: session, states with versions and file status, clients; an invalid file with line and column', async (t) => {
  const { h, file, srv } = await todoServer(t);
  const page = await h.client(srv);
  await page.subscribe('todo');
  let r = await cli(srv, ['status']);
  assert.equal(r.code, 0, r.stderr);
  let s = JSON.parse(r.stdout);
  assert.equal(s.reachable, true);
  assert.equal(s.session, page.hello.session);
  assert.equal(s.clients, 1);
  assert.deepEqual(s.states.map(({ name, version, status }) => ({ name, version, status })), [{ name: 'todo', version: 1, status: 'ok' }]);

  fs.writeFileSync(file, '{\n  "title": "x",\n  "items": [}\n');
  await page.next({ type: 'error', code: 'file_invalid' });
  r = await cli(srv, ['status']);
  assert.equal(r.code, 1, 'an invalid file fails status');
  s = JSON.parse(r.stdout);
  assert.equal(s.states[0].status, 'invalid');
  assert.equal(s.states[0].error.line, 3);
  assert.equal(s.states[0].error.column, 13);

  r = await cli(srv, ['status', '--pretty']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^server\s+mirrorstate\/\S+ at http:\/\/127\.0\.0\.1:\d+ \(session [0-9a-f]+\)\n/);
  assert.match(r.stdout, /clients\s+1 connected/);
  assert.match(r.stdout, /todo\s+1\s+invalid/);
  assert.match(r.stdout, /todo\.json:3:13: /);
});

// ---------------------------------------------------------------- watch

test('watch --once: the next change from the page, with its origin; --origin client skips the others', async (t) => {
  const { h, srv } = await todoServer(t);
  const page = await h.client(srv);
  await page.subscribe('todo');
  // --since 1 makes the wait race-free: whatever happens after version 1 is
  // seen, whether it happens before or after watch has subscribed.
  const w = cliAsync(srv, ['watch', 'todo', '--origin', 'client', '--once', '--since', '1']);
  assert.equal((await cli(srv, ['set', 'todo', '/title', '"by the agent"'])).code, 0);
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/0/done', value: true }]);
  const r = await w.done;
  assert.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout);
  assert.equal(out.length, 1);
  assert.deepEqual({ ...out[0], time: undefined }, {
    time: undefined, type: 'change', name: 'todo', version: 3, origin: page.origin,
    ops: [{ op: 'replace', path: '/items/0/done', value: true }],
    desc: ['items[id=1].done: false \u2192 true'],
  });
  assert.match(out[0].time, ISO_TIME);
});

test('watch: live changes of every state while it runs; --timeout ends it with 0 after output', async (t) => {
  const h = setup(t);
  const a = h.file('a.json', { n: 0 });
  const b = h.file('b.json', { n: 0 });
  const srv = await h.server({ files: [a, b] });
  const w = cliAsync(srv, ['watch', '--timeout', '6']);
  await waitFor(() => /watching a \(version 1\), b \(version 1\)/.test(w.proc.stderr), { message: 'watch ready' });
  await cli(srv, ['set', 'a', '/n', '1']);
  fs.writeFileSync(b, pretty({ n: 2 }));
  await waitFor(() => w.proc.stdout.split('\n').filter(Boolean).length >= 2, { message: 'two change lines' });
  const r = await w.done;
  assert.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout);
  assert.deepEqual(out.map((l) => [l.name, l.version, l.origin]), [['a', 2, 'api'], ['b', 2, 'file']]);
});

test('watch --since: changes after that version come from the history, in order, then live ones', async (t) => {
  const { srv } = await todoServer(t);
  for (const v of ['1', '2', '3']) await cli(srv, ['set', 'todo', '/n', v]);
  const r = await cli(srv, ['watch', 'todo', '--since', '2', '--timeout', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((l) => [l.version, l.ops[0].value]), [[3, 2], [4, 3]]);
});

test('watch --timeout with nothing happening exits 1 and prints nothing', async (t) => {
  const { srv } = await todoServer(t);
  const r = await cli(srv, ['watch', 'todo', '--once', '--timeout', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
});

test('watch: an unknown state exits 1; a bad option exits 2', async (t) => {
  const { srv } = await todoServer(t);
  let r = await cli(srv, ['watch', 'nope', '--timeout', '10']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown state "nope"/);
  r = await cli(srv, ['watch', '--timeout', 'soon']);
  assert.equal(r.code, 2);
  r = await cli(srv, ['watch', '--once', 'todo', '-n', '3']);
  assert.equal(r.code, 2, '-n belongs to history');
});

test('watch: the server going away ends it with exit 3', async (t) => {
  const { srv } = await todoServer(t);
  const w = cliAsync(srv, ['watch', 'todo']);
  await waitFor(() => /watching todo/.test(w.proc.stderr), { message: 'watch ready' });
  await srv.stop();
  const r = await w.done;
  assert.equal(r.code, 3, r.stderr);
});

test('watch identifies as a cli client', async (t) => {
  const { h, srv } = await todoServer(t);
  const w = cliAsync(srv, ['watch', 'todo', '--timeout', '10', '--once']);
  await waitFor(() => /watching todo/.test(w.proc.stderr), { message: 'watch ready' });
  const c = await h.client(srv);
  c.send({ type: 'clients', ref: 1 });
  const m = await c.next({ type: 'clients' });
  const cl = m.clients.find((x) => x.role === 'cli');
  assert.ok(cl, JSON.stringify(m.clients));
  assert.deepEqual(cl.subscriptions, ['todo']);
  await cli(srv, ['set', 'todo', '/n', '1']);
  assert.equal((await w.done).code, 0);
});

// ---------------------------------------------------------------- runtime file, token, usage

test('runtime file: 0600 in a 0700 .mirrorstate, found from a subdirectory, removed on a clean exit', async (t) => {
  const { h, srv } = await todoServer(t);
  const dir = h.path('.mirrorstate');
  const rt = path.join(dir, 'server.json');
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(fs.statSync(rt).mode & 0o777, 0o600);
  const info = JSON.parse(fs.readFileSync(rt, 'utf8'));
  const health = (await request(srv, '/_mirrorstate/healthz')).json;
  assert.equal(info.url, `http://127.0.0.1:${srv.port}`);
  assert.equal(info.pid, srv.proc.pid);
  assert.equal(info.session, health.session);
  assert.deepEqual(info.states, ['todo']);
  assert.equal(info.token, undefined);

  const deep = h.path('src', 'components');
  fs.mkdirSync(deep, { recursive: true });
  const r = await cli(null, ['get', 'todo', '/title'], { cwd: deep, useUrl: false });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '"Groceries"\n');
  const s = JSON.parse((await cli(null, ['status'], { cwd: deep, useUrl: false })).stdout);
  assert.equal(s.from, rt);

  await srv.stop();
  assert.equal(fs.existsSync(rt), false, 'runtime file removed');
  assert.equal(fs.existsSync(dir), false, 'empty .mirrorstate removed');
});

test('runtime file: --dir puts it in that directory and --dir scans ignore it', async (t) => {
  const h = setup(t);
  h.file('states/app/ui.json', { dark: true });
  const srv = await h.server({ dir: h.path('states') });
  const rt = await runtimeFile(h.path('states'));
  const r = await cli(null, ['status'], { cwd: h.path('states', 'app'), useUrl: false });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).states.map((s) => s.name), ['app/ui']);
  await srv.stop();
  assert.equal(fs.existsSync(rt), false);
});

test('token: taken from the runtime file, --token or MIRRORSTATE_TOKEN; a wrong one exits 3', async (t) => {
  const { h, srv } = await todoServer(t, TODO, { args: ['--token', 's3cret'] });
  const info = JSON.parse(fs.readFileSync(h.path('.mirrorstate', 'server.json'), 'utf8'));
  assert.equal(info.token, 's3cret');

  let r = await cli(null, ['get', 'todo', '/title'], { cwd: h.dir, useUrl: false });
  assert.equal(r.code, 0, r.stderr);
  r = await cli(srv, ['get', 'todo', '/title'], { cwd: h.dir });
  assert.equal(r.code, 3, 'the file\'s token is not sent to a server named by --url');
  assert.match(r.stderr, /refused/);
  r = await cli(srv, ['get', 'todo', '/title', '--token', 's3cret']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(srv, ['get', 'todo', '/title'], { env: { MIRRORSTATE_TOKEN: 's3cret' } });
  assert.equal(r.code, 0, r.stderr);
  r = await cli(srv, ['watch', '--timeout', '5', '--token', 'wrong']);
  assert.equal(r.code, 3);
  r = await cli(srv, ['watch', 'todo', '--timeout', '1', '--token', 's3cret']);
  assert.equal(r.code, 1, `authorised, and nothing happened: ${r.stderr}`);
});

test('MIRRORSTATE_URL, and the panel URL as serve prints it, both work', async (t) => {
  const { srv } = await todoServer(t);
  let r = await cli(null, ['get', 'todo', '/title'], { env: { MIRRORSTATE_URL: srv.http }, useUrl: false });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['get', 'todo', '/title', '--url', `${srv.http}/_mirrorstate/`], { env: CLEAN_ENV });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['get', '--url', 'ftp://x'], { env: CLEAN_ENV });
  assert.equal(r.code, 2);
});

test('usage errors exit 2; --help exits 0', async () => {
  for (const args of [['set', 'todo', '/a'], ['patch', 'todo'], ['get', 'a', '/b', 'c'], ['status', 'extra'], ['get', '--frob']]) {
    const r = await runCli([...args, '--url', DOWN], { env: CLEAN_ENV });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const r = await runCli(['watch', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: mirrorstate watch/);
});

test('agent-md prints the app part of AGENT.md, needing no server', async () => {
  const r = await runCli(['agent-md', '--url', DOWN], { env: CLEAN_ENV });
  assert.equal(r.code, 0, r.stderr);
  const md = fs.readFileSync(path.join(ROOT, 'AGENT.md'), 'utf8');
  const marker = '# Working on an app mirrored by MirrorState';
  assert.ok(md.includes(`\n${marker}\n`), 'AGENT.md has the marker heading');
  assert.equal(r.stdout, md.slice(md.indexOf(`\n${marker}\n`) + 1),
    'agent-md matches AGENT.md (a stale build? the binary packs AGENT.md at build time)');
});

test('large states travel both ways: an answer in many reads, a body in many writes', async (t) => {
  const big = { rows: Array.from({ length: 20000 }, (_, i) => ({ id: i, text: `row ${i}` })) };
  const { file, srv } = await todoServer(t, big);
  const r = await cli(srv, ['get', 'todo']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), big);
  // Too long for one argv string (128 KiB): through stdin.
  const done = await runCli(['set', 'todo', '', '-', '--url', srv.http], { env: CLEAN_ENV, input: r.stdout.replace('"row 0"', '"first"'), timeout: CLI_GUARD });
  assert.equal(done.code, 0, done.stderr);
  await waitForFile(file, (text) => JSON.parse(text).rows[0].text === 'first');
});
