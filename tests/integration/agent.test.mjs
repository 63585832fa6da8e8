// AGENT.md cannot drift: every command in its code blocks is run here.
// The scripted agent session uses only AGENT.md's own command lines, run
// through /bin/sh exactly as written, with `mirrorstate` on PATH.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT, pretty, readText, removeDir, runCli, setup, tempDir, waitFor, waitForFile } from '../lib/index.mjs';

const AGENT_MD = fs.readFileSync(path.join(ROOT, 'AGENT.md'), 'utf8');

/** Command lines of AGENT.md's ```sh blocks, without trailing comments. */
function docCommands() {
  const out = [];
  for (const m of AGENT_MD.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of m[1].split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd) out.push(cmd);
    }
  }
  return out;
}

// The session below, in order. Each string must appear verbatim in
// AGENT.md, and every `mirrorstate`/`tail` line of AGENT.md must be here.
const SERVE = 'mirrorstate serve --file app/todo.json --log events.log';
const C = {
  status: 'mirrorstate status',
  statusAll: 'mirrorstate status --all',
  get: 'mirrorstate get todo',
  getItem: 'mirrorstate get todo /items/0',
  setDone: 'mirrorstate set todo /items/0/done true',
  append: `mirrorstate set todo /items/- '{"id": 3, "text": "bread", "done": false}'`,
  setTitle: `mirrorstate set todo /title '"Weekend"'`,
  patch: `mirrorstate patch todo '[{"op": "test", "path": "/items/1/id", "value": 2}, {"op": "remove", "path": "/items/1"}]'`,
  waitUser: 'mirrorstate watch todo --origin client --once --since 5 --timeout 600',
  history: 'mirrorstate history todo -n 5',
  tail: 'tail -n 5 events.log',
};
// The loop's other half: did the server take the file (and the pages),
// what did the pages throw, and undo.
const LOOP = {
  syncPages: 'mirrorstate sync todo --pages',
  sync: 'mirrorstate sync todo',
  errors: 'mirrorstate errors --since 7',
  undo: 'mirrorstate undo todo 4',
};
// Repository commands: checked against the Makefile, not run.
const MAKE = ['make build', 'make asan', 'make test', 'make test-integration'];

test('every command in AGENT.md is one this suite runs or checks', () => {
  const doc = docCommands();
  const known = new Set([SERVE, ...Object.values(C), ...Object.values(LOOP), ...MAKE]);
  for (const cmd of doc) assert.ok(known.has(cmd), `AGENT.md shows a command no test runs: ${cmd}`);
  for (const cmd of known) assert.ok(doc.includes(cmd), `the session runs a command AGENT.md does not show: ${cmd}`);
});

test('the make targets AGENT.md names exist', () => {
  for (const cmd of MAKE) {
    const target = cmd.split(' ')[1];
    const r = spawnSync('make', ['-n', '-C', ROOT, target], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, `make -n ${target}: ${r.stderr}`);
  }
  for (const f of ['tests/integration/agent.test.mjs', 'docs/cli.md', 'docs/eventlog.md', 'server/commands.c', 'server/remote.c'])
    assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} named in AGENT.md`);
});

test('the app part starts at its marker heading, and the exit codes match docs/cli.md', () => {
  assert.match(AGENT_MD, /\n# Working on an app mirrored by MirrorState\n/);
  const part = AGENT_MD.slice(AGENT_MD.indexOf('\n# Working on an app mirrored by MirrorState\n'));
  assert.ok(!/^# /m.test(part.slice(2)), 'no other top-level heading after the marker');
  const cli = fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
  for (const code of ['0', '1', '2', '3']) assert.match(cli, new RegExp(`\\| ${code} \\|`));
  assert.match(part, /`0` ok; `1` not found, conflict .*`2` usage error.*`3` no server reachable/s);
});

/** Runs one AGENT.md line through sh in dir, with mirrorstate on PATH. */
function sh(env, cmd, { timeout = 30000 } = {}) {
  return runCli(['-c', cmd], { bin: '/bin/sh', cwd: env.dir, env: env.vars, timeout });
}

async function ok(env, cmd) {
  const r = await sh(env, cmd);
  assert.equal(r.code, 0, `${cmd}\nexit ${r.code}\nstderr: ${r.stderr}`);
  return r;
}

const json = (r) => JSON.parse(r.stdout);
const jsonLines = (r) => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('an agent session using only AGENT.md commands, from the directory serve was started in: read, change, wait for the user, see it in history and the log, sync an invalid and a fixed file, see the page\'s error, undo', async (t) => {
  const h = setup(t);
  const bin = tempDir('mirrorstate-bin-');
  const xdg = tempDir('mirrorstate-xdg-');
  fs.chmodSync(xdg, 0o700);
  t.after(() => removeDir(bin));
  t.after(() => removeDir(xdg));
  fs.symlinkSync(BIN, path.join(bin, 'mirrorstate'));
  const vars = { ...process.env, PATH: `${bin}:${process.env.PATH}`, MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '', XDG_RUNTIME_DIR: xdg };
  const env = { dir: h.dir, vars };

  const start = { title: 'Groceries', items: [{ id: 1, text: 'milk', done: false }, { id: 2, text: 'eggs', done: false }] };
  const file = h.file('app/todo.json', start);
  // SERVE as the person runs it, on a free port; the file is in a
  // subdirectory, and every command below runs where serve was started.
  const [, , ...serveArgs] = SERVE.split(' ');
  const srv = await h.server({ args: [...serveArgs], env: { XDG_RUNTIME_DIR: xdg } });
  await waitFor(() => fs.existsSync(h.path('app', '.mirrorstate', 'server.json')), { message: 'runtime file' });
  const page = await h.client(srv, { label: 'page' });
  await page.subscribe('todo');

  // Which file is live, the event log, and every server of the user.
  let s = json(await ok(env, C.status));
  assert.deepEqual(s.states.map(({ name, file: f, version, status }) => ({ name, f, version, status })), [{ name: 'todo', f: fs.realpathSync(file), version: 1, status: 'ok' }]);
  assert.equal(s.log, path.join(fs.realpathSync(h.dir), 'events.log'));
  const all = jsonLines(await ok(env, C.statusAll));
  assert.deepEqual(all.map((e) => [e.pid, e.url]), [[srv.proc.pid, srv.http]]);

  // Read, then change it four ways; the versions are the ones AGENT.md quotes.
  assert.deepEqual(json(await ok(env, C.get)), start);
  assert.deepEqual(json(await ok(env, C.getItem)), start.items[0]);
  assert.equal(json(await ok(env, C.setDone)).version, 2);
  assert.equal(json(await ok(env, C.append)).version, 3);
  assert.equal(json(await ok(env, C.setTitle)).version, 4);
  const ack = await ok(env, C.patch);
  assert.equal(ack.stdout.trim(), '{"type":"ack","name":"todo","version":5}');
  assert.ok(AGENT_MD.includes(ack.stdout.trim()), 'AGENT.md quotes this ack');
  const v5 = { title: 'Weekend', items: [{ id: 1, text: 'milk', done: true }, { id: 3, text: 'bread', done: false }] };
  await waitForFile(file, pretty(v5));
  await waitFor(() => JSON.stringify(page.replica('todo').state) === JSON.stringify(v5), { message: 'the page shows the change' });

  // Wait for the user; the page ticks "bread". --since 5 makes it race-free.
  const waiting = sh(env, C.waitUser, { timeout: 60000 });
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/1/done', value: true }]);
  const seen = await waiting;
  assert.equal(seen.code, 0, seen.stderr);
  const [change, ...more] = jsonLines(seen);
  assert.equal(more.length, 0);
  assert.deepEqual({ ...change, time: 'T' }, { time: 'T', type: 'change', name: 'todo', version: 6, origin: page.origin, ops: [{ op: 'replace', path: '/items/1/done', value: true }], desc: ['items[id=3].done: false \u2192 true'] });

  // The log has it too, and history lists the last five versions.
  const logged = await waitFor(async () => jsonLines(await ok(env, C.tail)).find((l) => l.version === 6), { message: 'version 6 in the log' });
  assert.deepEqual({ ...logged, time: 'T' }, change && { ...change, time: 'T' });
  const hist = jsonLines(await ok(env, C.history));
  assert.deepEqual(hist.map((e) => [e.version, e.origin]), [[2, 'api'], [3, 'api'], [4, 'api'], [5, 'api'], [6, page.origin]]);

  // An invalid edit: left as written; status fails and says where.
  const broken = pretty(v5).replace('"title": "Weekend",', '"title": "Weekend"');
  fs.writeFileSync(file, broken);
  await page.next({ type: 'error', code: 'file_invalid' });
  const bad = await sh(env, C.status);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /app\/todo\.json:3:3: the file of state "todo" is not valid JSON: /);
  assert.equal(readText(file), broken, 'the file is left as the agent wrote it');

  // sync says so at once, with the line, exit 1.
  let r = await sh(env, LOOP.sync);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(json(r).status, 'invalid');
  assert.match(r.stderr, /app\/todo\.json:3:3: the file of state "todo" is not valid JSON: .*; the line:   "items": \[; the state stays at version 6 until the file parses/);

  // Fixed with a real change; sync --pages: taken in, and the page has it.
  page.onmessage = (m) => { if (m.type === 'patch') page.send({ type: 'applied', name: 'todo', version: m.version }); };
  const v7 = { ...v5, items: [{ ...v5.items[0], text: 'oat milk' }, { ...v5.items[1], done: true }] };
  fs.writeFileSync(file, pretty(v7));
  r = await ok(env, LOOP.syncPages);
  assert.deepEqual(json(r), { type: 'synced', name: 'todo', status: 'applied', version: 7, pages: { confirmed: 1, total: 1, errors: [] } });
  assert.ok(AGENT_MD.includes('"status":"applied","version":7,"pages":{"confirmed":1,"total":1,"errors":[]}'), 'AGENT.md quotes this answer');
  s = json(await ok(env, C.status));
  assert.deepEqual([s.states[0].version, s.states[0].status], [7, 'ok']);

  // The page broke on version 7: errors --since 7 shows it.
  page.send({ type: 'page_error', kind: 'error', message: 'TypeError: items.map is not a function', stack: 'at render', states: { todo: 7 } });
  const errs = await waitFor(async () => { const l = jsonLines(await ok(env, LOOP.errors)); return l.length && l; }, { message: 'the page error' });
  assert.deepEqual(errs.map((e) => [e.kind, e.message, e.states.todo, e.client]), [['error', 'TypeError: items.map is not a function', 7, page.id]]);

  // Undo the agent's title (version 4): the user's tick and the fix stay.
  r = await ok(env, LOOP.undo);
  assert.deepEqual(json(r), { type: 'ack', name: 'todo', version: 8, undone: [4] });
  const v8 = { ...v7, title: 'Groceries' };
  await waitForFile(file, pretty(v8));
  await waitFor(() => JSON.stringify(page.replica('todo').state) === JSON.stringify(v8), { message: 'the page has the undo' });
});
