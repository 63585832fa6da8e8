// `mirrorstate mcp` driven by the reference MCP TypeScript SDK: the Client
// over StdioClientTransport lists the tools and calls each against a real
// server, found from the directory the MCP server runs in, as the CLI
// finds it. The SDK checks every structured result against the tool's
// outputSchema. Raw JSON-RPC checks the errors the SDK never provokes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, pretty, setup, waitFor, waitForFile } from './harness.mjs';

const TOOLS = ['apply_patch', 'get_state', 'history', 'page_errors', 'set_value', 'status', 'sync', 'undo'];

function registry(t) {
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorstate-xdg-'));
  fs.chmodSync(xdg, 0o700);
  t.after(() => fs.rmSync(xdg, { recursive: true, force: true }));
  return { XDG_RUNTIME_DIR: xdg, MIRRORSTATE_URL: '', MIRRORSTATE_TOKEN: '' };
}

async function mcpClient(t, cwd, env, args = []) {
  const transport = new StdioClientTransport({ command: BIN, args: ['mcp', ...args], cwd, env: { ...process.env, ...env }, stderr: 'pipe' });
  const client = new Client({ name: 'mirrorstate-test', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

test('MCP over stdio with the reference SDK: tools listed with schemas; each tool called against a real server', async (t) => {
  const h = setup(t);
  const env = registry(t);
  const start = { title: 'Groceries', items: [{ id: 1, text: 'milk', done: false }] };
  const file = h.file('app/todo.json', start);
  const srv = await h.server({ files: ['app/todo.json'], args: ['--log', 'events.log'], env });
  const client = await mcpClient(t, h.dir, env);

  assert.equal(client.getServerVersion().name, 'mirrorstate');
  assert.match(client.getInstructions(), /sync/);
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
  for (const tool of tools) {
    assert.equal(tool.inputSchema.type, 'object', tool.name);
    assert.ok(tool.description.length > 40, `${tool.name} has a description`);
    assert.equal(tool.outputSchema?.type, 'object', `${tool.name} has an output schema`);
  }
  const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
  assert.deepEqual(byName.set_value.inputSchema.required, ['name', 'pointer', 'value']);
  assert.deepEqual(byName.undo.inputSchema.required, ['name', 'versions']);
  assert.equal(byName.get_state.annotations.readOnlyHint, true);

  // status: what is mirrored, found from the directory serve started in.
  let r = await client.callTool({ name: 'status', arguments: {} });
  assert.ok(!r.isError, text(r));
  assert.equal(r.structuredContent.url, srv.http);
  assert.deepEqual(r.structuredContent.states.map((s) => [s.name, s.version, s.status]), [['todo', 1, 'ok']]);
  assert.equal(r.structuredContent.log, path.join(fs.realpathSync(h.dir), 'events.log'));
  assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent, 'the text is the same JSON');

  // get_state: the whole state (name left out: the only one), and one value.
  r = await client.callTool({ name: 'get_state', arguments: {} });
  assert.deepEqual(r.structuredContent, { name: 'todo', version: 1, value: start });
  r = await client.callTool({ name: 'get_state', arguments: { name: 'todo', pointer: '/items/0/text' } });
  assert.deepEqual(r.structuredContent, { name: 'todo', version: 1, pointer: '/items/0/text', value: 'milk' });

  // set_value: the file and a page follow.
  const page = await h.client(srv);
  await page.subscribe('todo');
  r = await client.callTool({ name: 'set_value', arguments: { name: 'todo', pointer: '/items/-', value: { id: 2, text: 'eggs', done: false } } });
  assert.ok(!r.isError, text(r));
  assert.deepEqual(r.structuredContent, { type: 'ack', name: 'todo', version: 2 });
  const v2 = { ...start, items: [...start.items, { id: 2, text: 'eggs', done: false }] };
  await waitForFile(file, pretty(v2));
  await page.next({ type: 'patch', name: 'todo', version: 2, origin: 'api' });

  // apply_patch: guarded by a test op; a failing guard applies nothing.
  r = await client.callTool({ name: 'apply_patch', arguments: { name: 'todo', ops: [{ op: 'test', path: '/items/0/id', value: 1 }, { op: 'replace', path: '/items/0/done', value: true }] } });
  assert.ok(!r.isError, text(r));
  assert.equal(r.structuredContent.version, 3);
  r = await client.callTool({ name: 'apply_patch', arguments: { name: 'todo', ops: [{ op: 'test', path: '/items/0/id', value: 9 }, { op: 'remove', path: '/items/0' }] } });
  assert.equal(r.isError, true);
  assert.match(text(r), /conflict/);
  r = await client.callTool({ name: 'get_state', arguments: { name: 'todo', pointer: '/items/0/done' } });
  assert.deepEqual([r.structuredContent.version, r.structuredContent.value], [3, true]);

  // history: who changed what.
  r = await client.callTool({ name: 'history', arguments: { name: 'todo', limit: 2 } });
  assert.deepEqual(r.structuredContent.entries.map((e) => [e.version, e.origin]), [[2, 'api'], [3, 'api']]);

  // A bad argument is a tool error the agent can read, not a protocol error.
  r = await client.callTool({ name: 'get_state', arguments: { pointer: 5 } });
  assert.equal(r.isError, true);
  assert.match(text(r), /"pointer" must be a string/);
  r = await client.callTool({ name: 'get_state', arguments: { name: 'nope' } });
  assert.equal(r.isError, true);
  assert.match(text(r), /unknown state "nope"; states: todo/);
  await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /Unknown tool: no_such_tool/);

  // An invalid file shows in status (not a tool error: it is the answer).
  fs.writeFileSync(file, '{\n  "title": "Groceries",\n  "items": [}\n');
  await page.next({ type: 'error', code: 'file_invalid' });
  r = await client.callTool({ name: 'status', arguments: {} });
  assert.ok(!r.isError, text(r));
  assert.equal(r.structuredContent.states[0].status, 'invalid');
  assert.match(text(r), /app\/todo\.json:3:13: the file of state "todo" is not valid JSON/);
});

test('MCP: sync, undo and page_errors work against the real server: the file taken in, a page confirming, an undo keeping the later change, a conflict as a tool error, the errors a page reported', async (t) => {
  const h = setup(t);
  const env = registry(t);
  const file = h.file('app/todo.json', { n: 1, items: [{ id: 1, done: false }] });
  const srv = await h.server({ files: ['app/todo.json'], env });
  const client = await mcpClient(t, h.dir, env);
  const page = await h.client(srv);
  await page.subscribe('todo');
  // The page confirms every version it receives.
  page.onmessage = (m) => { if (m.type === 'patch') page.send({ type: 'applied', name: 'todo', version: m.version }); };

  fs.writeFileSync(file, pretty({ n: 2, items: [{ id: 1, done: false }] }));
  let r = await client.callTool({ name: 'sync', arguments: { pages: true, timeout: 600 } });
  assert.ok(!r.isError, text(r));
  assert.deepEqual(r.structuredContent.results.map((x) => [x.name, x.status, x.version, x.pages.confirmed, x.pages.total]), [['todo', 'applied', 2, 1, 1]]);

  fs.writeFileSync(file, '{"n": 3,');
  r = await client.callTool({ name: 'sync', arguments: { name: 'todo' } });
  assert.equal(r.isError, true);
  assert.match(text(r), /app\/todo\.json:1:9: the file of state "todo" is not valid JSON/);
  fs.writeFileSync(file, pretty({ n: 3, items: [{ id: 1, done: false }] }));
  r = await client.callTool({ name: 'sync', arguments: { name: 'todo' } });
  assert.deepEqual([r.isError, r.structuredContent.results[0].status], [undefined, 'applied']);

  // The user ticks the item (v4); undoing the agent's save (v3) keeps it.
  await page.patchAcked('todo', [{ op: 'replace', path: '/items/0/done', value: true }]);
  r = await client.callTool({ name: 'undo', arguments: { name: 'todo', versions: [3] } });
  assert.ok(!r.isError, text(r));
  assert.deepEqual(r.structuredContent, { type: 'ack', name: 'todo', version: 5, undone: [3] });
  await waitForFile(file, pretty({ n: 2, items: [{ id: 1, done: true }] }));
  r = await client.callTool({ name: 'undo', arguments: { name: 'todo', versions: [2] } });
  assert.equal(r.isError, true);
  assert.match(text(r), /cannot undo version 2: a later change touched \/n; nothing was undone/);
  r = await client.callTool({ name: 'undo', arguments: { name: 'todo', versions: [] } });
  assert.equal(r.isError, true);
  assert.match(text(r), /"versions" must be an array of 1 to \d+ versions/);

  page.send({ type: 'page_error', kind: 'error', message: 'TypeError: items.map is not a function', states: { todo: 5 } });
  await waitFor(async () => (await client.callTool({ name: 'page_errors', arguments: {} })).structuredContent.errors.length === 1, { message: 'the page error' });
  r = await client.callTool({ name: 'page_errors', arguments: { name: 'todo', since: 5 } });
  assert.deepEqual(r.structuredContent.errors.map((e) => [e.message, e.client]), [['TypeError: items.map is not a function', page.id]]);
  r = await client.callTool({ name: 'history', arguments: { name: 'todo', limit: 1 } });
  assert.deepEqual(r.structuredContent.entries[0].desc, ['n: 3 \u2192 2']);
});

/** Raw JSON-RPC lines in, answers out. */
function rawSession(lines, env, cwd) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['mcp'], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`mcp did not end: ${out}`)); }, 20000);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, answers: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)) }); });
    p.stdin.end(lines.join('\n') + '\n');
  });
}

test('MCP JSON-RPC: initialize negotiates the revision; ping; parse errors, batches, unknown methods and bad requests get JSON-RPC errors; notifications get nothing', async (t) => {
  const env = registry(t);
  const { code, answers } = await rawSession([
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}',
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    '{"jsonrpc":"2.0","id":"two","method":"ping"}',
    '{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}',
    'not json',
    '[{"jsonrpc":"2.0","id":4,"method":"ping"}]',
    '{"jsonrpc":"2.0","id":5,"method":"resources/list"}',
    '{"id":6,"method":"ping"}',
    '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{}}}',
    '{"jsonrpc":"2.0","id":8,"method":"tools/list","params":[]}',
    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}',
    '{"jsonrpc":"2.0","id":9,"method":"tools/list"}',
  ], env, os.tmpdir());
  assert.equal(code, 0, 'EOF ends it cleanly');
  const byId = (id) => answers.find((a) => a.id === id);
  assert.equal(byId(1).result.protocolVersion, '2025-06-18');
  assert.deepEqual(byId(1).result.capabilities, { tools: { listChanged: false } });
  assert.deepEqual(byId('two'), { jsonrpc: '2.0', id: 'two', result: {} });
  assert.equal(byId(3).result.protocolVersion, '2025-11-25', 'an unknown revision gets the newest');
  const nullIds = answers.filter((a) => a.id === null).map((a) => a.error.code);
  assert.deepEqual(nullIds, [-32700, -32600], 'parse error, then the batch');
  assert.equal(byId(5).error.code, -32601);
  assert.equal(byId(6).error.code, -32600, 'no jsonrpc member');
  assert.equal(byId(7).error.code, -32602, 'tools/call without a name');
  assert.equal(byId(8).error.code, -32602, 'params not an object');
  assert.equal(byId(9).result.tools.length, 8);
  assert.equal(answers.length, 10, 'one answer per request, none for notifications');
});
