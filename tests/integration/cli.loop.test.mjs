// The agent's loop on the command line: sync, undo, reset and errors
// (argument parsing, help, exit codes; what they print for each answer of
// the protocol, from a scripted server, and against the real one; the
// clear message from a server that does not know their messages), and
// watch: streaming until its timeout, and --once printing its whole first
// batch, each change described.

import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { BIN, Server, pretty, runCli, setup, waitFor } from './harness.mjs';
import fs from 'node:fs';

const CLEAN_ENV = { MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' };
const DOWN = 'http://127.0.0.1:1';
const CLI_GUARD = 20000;
const lines = (text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const cli = (url, args) => runCli([...args, '--url', url], { env: CLEAN_ENV, timeout: CLI_GUARD });

// ---------------------------------------------------------------- arguments, help

test('sync, undo, reset, errors and mcp: help, and usage errors exit 2', async () => {
  for (const [cmd, synopsis] of [['sync', 'sync [NAME] [--pages] [--timeout S]'], ['undo', 'undo NAME VERSION...'], ['reset', 'reset NAME VERSION'], ['errors', 'errors [NAME] [--since V] [--watch]'], ['mcp', 'mcp']]) {
    const r = await runCli([cmd, '--help'], { env: CLEAN_ENV });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`usage: mirrorstate ${synopsis}\n`), r.stdout);
  }
  const bad = [
    [['undo', 'todo'], /usage: mirrorstate undo NAME VERSION\.\.\./],
    [['undo', 'todo', '3', 'x'], /VERSION must be a version number \(>= 1\), not 'x'/],
    [['undo', 'todo', '0'], /VERSION must be/],
    [['reset', 'todo'], /usage: mirrorstate reset NAME VERSION/],
    [['reset', 'todo', '1', '2'], /too many|usage/],
    [['sync', 'a', 'b'], /usage: mirrorstate sync/],
    [['sync', '--timeout', 'soon'], /--timeout wants a number/],
    [['sync', '--once'], /--once is not an option of sync, but of watch/],
    [['errors', '--since', 'x'], /--since wants a number/],
    [['errors', '--pages'], /--pages is not an option of errors, but of sync/],
    [['status', '--all', 'x'], /usage: mirrorstate status/],
  ];
  for (const [args, why] of bad) {
    const r = await cli(DOWN, args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why, args.join(' '));
  }
  for (const args of [['sync'], ['sync', 'todo', '--pages'], ['undo', 'todo', '2'], ['reset', 'todo', '1'], ['errors']]) {
    const r = await cli(DOWN, args);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /cannot reach/);
  }
});

test('help, man page and completions know the new commands and options', async () => {
  const help = (await runCli(['--help'])).stdout;
  for (const c of ['sync', 'undo', 'reset', 'errors', 'mcp']) assert.match(help, new RegExp(`\\n  ${c} `), c);
  for (const o of ['--pages', '--state-dir', '--all', '--watch']) assert.ok(help.includes(o), o);
  const man = (await runCli(['manpage'])).stdout;
  assert.match(man, /\.SS sync\n/);
  assert.match(man, /\.SS errors\n/);
  const zsh = (await runCli(['completion', 'zsh'])).stdout;
  const helpable = /'1:command:\(([^)]*)\)'/.exec(zsh)[1].split(' ');
  for (const c of ['sync', 'undo', 'reset', 'errors', 'mcp']) assert.ok(helpable.includes(c), `zsh: help ${c}`);
  const bash = (await runCli(['completion', 'bash'])).stdout;
  assert.match(bash, /sync\) opts="[^"]*--pages/);
});

// ---------------------------------------------------------------- the contract, from a scripted server

/**
 * A server that speaks the protocol's hello and answers each message with
 * answer(msg) (an object, an array of them, or undefined for none), and
 * the states list over HTTP. Records what it received.
 */
async function scripted(t, answer, states = ['todo']) {
  const seen = [];
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ server: 'mirrorstate/9.9.9', session: 's', clients: 0, states: states.map((name) => ({ name, version: 1, status: 'ok' })) }));
  });
  const wss = new WebSocketServer({ server, path: '/_mirrorstate/ws', handleProtocols: () => 'mirrorstate.v1' });
  const sockets = new Set();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, server: 'mirrorstate/9.9.9', session: 's', client: 'c1', states }));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      seen.push(m);
      const out = answer(m, ws);
      for (const a of out === undefined ? [] : Array.isArray(out) ? out : [out]) ws.send(JSON.stringify({ ...a, ref: a.ref === undefined ? m.ref : a.ref }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { for (const s of sockets) s.terminate(); wss.close(); server.close(r); }));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, sockets };
}

test('against a server that does not know the messages: a clear message and exit 3, nothing on stdout', async (t) => {
  const srv = await scripted(t, (m) => (['sync', 'undo', 'reset', 'errors'].includes(m.type)
    ? { type: 'error', code: 'bad_message', message: `unknown message type "${m.type}"` }
    : undefined));
  for (const [args, what] of [[['sync'], 'sync'], [['sync', 'todo', '--pages'], 'sync'], [['undo', 'todo', '1'], 'undo'], [['reset', 'todo', '1'], 'reset'], [['errors'], 'errors'], [['errors', '--watch', '--timeout', '10'], 'errors']]) {
    const r = await cli(srv.url, args);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`this server \\(mirrorstate/9\\.9\\.9 at ${srv.url}\\) does not support ${what} yet`), args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('sync: applied and unchanged exit 0, invalid exits 1 with file, line, column and the line; --pages counts pages; without NAME every state', async (t) => {
  const answers = {
    todo: { type: 'synced', name: 'todo', status: 'applied', version: 8 },
    same: { type: 'synced', name: 'same', status: 'unchanged', version: 3 },
    bad: { type: 'synced', name: 'bad', status: 'invalid', version: 5, file: '/app/bad.json', line: 4, column: 7, message: "Expected ',' or '}'", text: '  "a" 1' },
  };
  const pages = { confirmed: 1, total: 2, errors: [{ kind: 'error', message: 'TypeError: x is undefined' }] };
  const srv = await scripted(t, (m) => {
    if (m.type !== 'sync') return undefined;
    const a = answers[m.name];
    return m.pages ? { ...a, pages } : a;
  }, ['todo', 'same', 'bad']);

  let r = await cli(srv.url, ['sync', 'todo']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [answers.todo], 'the answer as it came, without the ref');
  const sent = srv.seen.find((m) => m.type === 'sync');
  assert.deepEqual({ ...sent, ref: 'R' }, { type: 'sync', name: 'todo', pages: false, timeout: 10000, ref: 'R' });
  assert.ok(srv.seen.some((m) => m.type === 'identify' && m.role === 'cli'));

  r = await cli(srv.url, ['sync', 'same']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(srv.url, ['sync', 'bad']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/app\/bad\.json:4:7: the file of state "bad" is not valid JSON: Expected ',' or '}'; the line:   "a" 1; the state stays at version 5/);
  assert.equal(lines(r.stdout)[0].status, 'invalid');

  // --pages: one of two pages confirmed within the timeout: exit 1; page
  // errors are reported either way.
  r = await cli(srv.url, ['sync', 'todo', '--pages', '--timeout', '3']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /state "todo": 1 of 2 pages confirmed version 8 within 3 s/);
  assert.match(r.stderr, /a page reported an error after version 8: TypeError: x is undefined/);
  assert.equal(srv.seen.filter((m) => m.type === 'sync').at(-1).timeout, 3000);

  // Every state, one line each, worst exit code.
  r = await cli(srv.url, ['sync']);
  assert.equal(r.code, 1);
  assert.deepEqual(lines(r.stdout).map((l) => [l.name, l.status]), [['todo', 'applied'], ['same', 'unchanged'], ['bad', 'invalid']]);
});

test('sync: no answer within the timeout exits 1', async (t) => {
  const srv = await scripted(t, () => undefined);
  const r = await cli(srv.url, ['sync', 'todo', '--timeout', '0.5']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no answer to sync from http:\/\/127\.0\.0\.1:\d+ within 2\.5 s/);
});

test('undo: the ack with what was undone; a conflict exits 1 listing each version and path; unknown state exits 1', async (t) => {
  const srv = await scripted(t, (m) => {
    if (m.type !== 'undo') return undefined;
    if (m.name === 'nope') return { type: 'error', code: 'unknown_state', name: 'nope', message: 'unknown state' };
    if (m.versions.includes(4)) return { type: 'error', code: 'conflict', name: 'todo', message: 'later changes touched the same values', conflicts: [{ version: 4, path: '/items/0/done' }] };
    return { type: 'ack', name: 'todo', version: 9, undone: m.versions };
  });
  let r = await cli(srv.url, ['undo', 'todo', '5', '7']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout)[0].undone, [5, 7]);
  assert.match(r.stderr, /undid version 5, 7 of "todo", keeping the later changes/);
  assert.deepEqual(srv.seen.find((m) => m.type === 'undo').versions, [5, 7]);

  r = await cli(srv.url, ['undo', 'todo', '4']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot undo version 4: a later change touched \/items\/0\/done; nothing was undone/);
  assert.deepEqual(lines(r.stdout)[0].conflicts, [{ version: 4, path: '/items/0/done' }]);

  r = await cli(srv.url, ['undo', 'nope', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown state "nope"; states: todo/);
});

test('reset: the ack, and on stderr every version it discarded', async (t) => {
  const srv = await scripted(t, (m) => (m.type === 'reset' ? { type: 'ack', name: 'todo', version: 10, discarded: [6, 7, 8, 9] } : undefined));
  const r = await cli(srv.url, ['reset', 'todo', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lines(r.stdout)[0].version, 10);
  assert.match(r.stderr, /reset "todo" to version 5, discarding the changes of versions 6, 7, 8, 9/);
});

test('errors: JSON lines; --since needs a state (the only one, or NAME); --watch goes on with pushed page errors', async (t) => {
  const err = (n) => ({ kind: 'error', message: `boom ${n}`, stack: 'at x', url: 'http://127.0.0.1:3000/', states: { todo: n }, client: 'c3' });
  const srv = await scripted(t, (m, ws) => {
    if (m.type !== 'errors') return undefined;
    if (m.watch) setTimeout(() => ws.send(JSON.stringify({ type: 'page_error', ...err(9) })), 50);
    return { type: 'errors', errors: m.since ? [err(m.since)] : [err(1), err(2)] };
  });
  let r = await cli(srv.url, ['errors']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((e) => e.message), ['boom 1', 'boom 2']);
  r = await cli(srv.url, ['errors', '--since', '7']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((e) => e.message), ['boom 7']);
  const asked = srv.seen.filter((m) => m.type === 'errors');
  assert.deepEqual(asked.map(({ ref, ...m }) => m), [{ type: 'errors' }, { type: 'errors', name: 'todo', since: 7 }]);

  const proc = spawn(BIN, ['errors', '--watch', '--url', srv.url, '--timeout', '15'], { env: { ...process.env, ...CLEAN_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  const w = new Server(proc, []);
  await waitFor(() => w.stdout.split('\n').filter(Boolean).length >= 3, { message: 'the answer and a pushed error' });
  assert.deepEqual(lines(w.stdout).map((e) => e.message), ['boom 1', 'boom 2', 'boom 9']);
  assert.equal(lines(w.stdout)[2].type, 'page_error');
  assert.equal(srv.seen.filter((m) => m.type === 'errors').at(-1).watch, true);
  await w.kill();
});

// ---------------------------------------------------------------- watch

test('watch: streams every change until its timeout; --once --since prints the whole batch, one change per line', async (t) => {
  const h = setup(t);
  const file = h.file('todo.json', { n: 0, done: [] });
  const srv = await h.server({ files: [file] });
  const page = await h.client(srv);
  await page.subscribe('todo');

  // Three changes by the user before the agent looks.
  for (const n of [1, 2, 3]) await page.patchAcked('todo', [{ op: 'replace', path: '/n', value: n }]);
  let r = await cli(srv.http, ['watch', 'todo', '--origin', 'client', '--once', '--since', '1', '--timeout', '10']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((l) => [l.version, l.ops[0].value, l.origin]), [[2, 1, page.origin], [3, 2, page.origin], [4, 3, page.origin]]);

  // Streaming: every change while it runs, each on its own line at once.
  const proc = spawn(BIN, ['watch', 'todo', '--url', srv.http, '--timeout', '8'], { env: { ...process.env, ...CLEAN_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  const w = new Server(proc, []);
  await waitFor(() => /watching todo/.test(w.stderr), { message: 'watch ready' });
  await page.patchAcked('todo', [{ op: 'replace', path: '/n', value: 4 }]);
  await waitFor(() => w.stdout.includes('\n'), { message: 'the first line before the next change' });
  fs.writeFileSync(file, pretty({ n: 5, done: [] }));
  await page.next({ type: 'patch', name: 'todo', version: 6 });
  await waitFor(() => w.stdout.split('\n').filter(Boolean).length === 2, { message: 'two lines' });
  const end = await w.waitExit(CLI_GUARD);
  assert.equal(end.code, 0, w.stderr);
  assert.deepEqual(lines(w.stdout).map((l) => [l.version, l.origin]), [[5, page.origin], [6, 'file']]);
});

// ---------------------------------------------------------------- the real server

test('against the real server: sync applied, unchanged, invalid (exit 1 with the line), missing; undo keeps later changes or exits 1 listing the conflict; reset lists what it discarded; errors prints what pages reported', async (t) => {
  const h = setup(t);
  const file = h.file('todo.json', { title: 'a', items: [{ id: 1, text: 'milk', done: false }] });
  const srv = await h.server({ files: [file], args: ['--settle', '60000'] });
  const page = await h.client(srv);
  await page.subscribe('todo');

  fs.writeFileSync(file, pretty({ title: 'b', items: [{ id: 1, text: 'milk', done: false }] }));
  let r = await cli(srv.http, ['sync', 'todo']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [{ type: 'synced', name: 'todo', status: 'applied', version: 2 }]);
  r = await cli(srv.http, ['sync']);
  assert.deepEqual([r.code, lines(r.stdout)[0].status], [0, 'applied']);
  fs.writeFileSync(file, '{\n  "title": "b",\n  "items": [}\n');
  r = await cli(srv.http, ['sync', 'todo', '--timeout', '600']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /todo\.json:3:13: the file of state "todo" is not valid JSON: .*; the line:   "items": \[\}; the state stays at version 2 until the file parses/);
  fs.writeFileSync(file, pretty({ title: 'b', items: [{ id: 1, text: 'milk', done: false }] }));
  r = await cli(srv.http, ['sync', 'todo']);
  assert.deepEqual([r.code, lines(r.stdout)[0].status, lines(r.stdout)[0].version], [0, 'unchanged', 2]);

  // The agent (v3) then the user (v4); undo of the agent's keeps the user's.
  r = await cli(srv.http, ['set', 'todo', '/title', '"agent"']);
  assert.equal(JSON.parse(r.stdout).version, 3);
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/0/done', value: true }]);
  r = await cli(srv.http, ['undo', 'todo', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [{ type: 'ack', name: 'todo', version: 5, undone: [3] }]);
  assert.match(r.stderr, /undid version 3 of "todo", keeping the later changes/);
  await waitFor(() => page.replica('todo').version === 5, { message: 'the page has the undo' });
  assert.deepEqual(page.replica('todo').state, { title: 'b', items: [{ id: 1, text: 'milk', done: true }] });
  // The user's tick cannot be undone once the agent changed it again.
  assert.equal((await cli(srv.http, ['set', 'todo', '/items/0/done', 'false'])).code, 0);
  r = await cli(srv.http, ['undo', 'todo', '4']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot undo version 4: a later change touched \/items\/0\/done; nothing was undone/);
  assert.deepEqual(lines(r.stdout)[0].conflicts, [{ version: 4, path: '/items/0/done', by: 6 }]);
  r = await cli(srv.http, ['undo', 'todo', '99']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown_version: version 99 is not in the history/);

  r = await cli(srv.http, ['reset', 'todo', '4']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [{ type: 'ack', name: 'todo', version: 7, discarded: [5, 6] }]);
  assert.match(r.stderr, /reset "todo" to version 4, discarding the changes of versions 5, 6/);

  page.send({ type: 'page_error', kind: 'error', message: 'TypeError: boom', states: { todo: 7 } });
  await waitFor(async () => lines((await cli(srv.http, ['errors'])).stdout).length === 1, { message: 'the error kept' });
  r = await cli(srv.http, ['errors', '--since', '7']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((e) => [e.message, e.client, e.states.todo]), [['TypeError: boom', page.id, 7]]);
  r = await cli(srv.http, ['errors', '--since', '8']);
  assert.deepEqual([r.code, r.stdout], [0, '']);

  fs.unlinkSync(file);
  r = await cli(srv.http, ['sync', 'todo']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /todo\.json: the file of state "todo" does not exist/);
});
