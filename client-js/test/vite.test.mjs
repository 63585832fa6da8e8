// The Vite plugin's parts that need no Vite: options, finding the binary,
// the allowlist it passes on, the boot data it reads from a real server
// ($MIRRORSTATE_BIN, default build/mirrorstate), the HTML-safe JSON and the
// overlay's error payload. The plugin inside a real Vite dev server is
// tested in tests/package/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import mirrorstate, {
  INSTALL_HINT, allowedHostArgs, bootData, codeFrame, fileErrorPayload, findBinary, scriptJSON,
} from '../integrations/vite.js';
import { startServer, stopServer, tempDir } from '../../tests/lib/index.mjs';

const tmp = () => tempDir('mirrorstate-vite-');

test('options: unknown names and wrong types are refused with the list of known ones', () => {
  assert.throws(() => mirrorstate({ fil: 'state.json' }), /unknown option "fil" \(known: file, files, dir, bin, url, args, port/);
  assert.throws(() => mirrorstate({ files: 'a.json' }), /files must be an array/);
  assert.throws(() => mirrorstate({ args: '-v' }), /args must be an array of strings/);
  assert.throws(() => mirrorstate({ port: 70000 }), /port must be an integer/);
  assert.throws(() => mirrorstate({ url: 'localhost:7420' }), /url must be http\(s\) or ws\(s\)/);
  assert.throws(() => mirrorstate({ file: '' }), /file must be a non-empty string/);
  const p = mirrorstate();
  assert.equal(p.name, 'mirrorstate');
  assert.equal(p.apply, 'serve');
});

test('the plugin proxies /_mirrorstate with WebSockets, keeping Host and Origin for the binary to check', () => {
  const cfg = mirrorstate({ file: 'state.json' }).config({}, { command: 'serve', mode: 'development' });
  const proxy = cfg.server.proxy['/_mirrorstate'];
  assert.equal(proxy.ws, true);
  assert.equal(proxy.changeOrigin, false);
  assert.equal(mirrorstate().config({}, { command: 'serve', isPreview: true }), undefined, 'nothing for vite preview');
});

test('findBinary: bin, then MIRRORSTATE_BIN, then PATH; a clear message with the install hint', () => {
  const dir = tmp();
  try {
    const exe = path.join(dir, 'mirrorstate');
    fs.writeFileSync(exe, '#!/bin/sh\n', { mode: 0o755 });
    const other = path.join(dir, 'other');
    fs.writeFileSync(other, '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(findBinary(other, { MIRRORSTATE_BIN: exe, PATH: '' }), other);
    assert.equal(findBinary(undefined, { MIRRORSTATE_BIN: other, PATH: dir }), other);
    assert.equal(findBinary(undefined, { PATH: `/nonexistent${path.delimiter}${dir}` }), exe);
    assert.throws(() => findBinary(undefined, { PATH: '/nonexistent' }), (e) =>
      e.message.includes('the mirrorstate binary is not on the PATH') && e.message.includes(INSTALL_HINT));
    assert.throws(() => findBinary(path.join(dir, 'missing'), {}), /the bin option names .*missing, which is not an executable file/);
    assert.throws(() => findBinary(undefined, { MIRRORSTATE_BIN: dir }), /MIRRORSTATE_BIN names .*, which is not an executable file/);
    fs.chmodSync(exe, 0o644);
    assert.throws(() => findBinary(exe, {}), /not an executable file/);
    assert.match(INSTALL_HINT, /MIRRORSTATE_BIN/);
    assert.match(INSTALL_HINT, /make build/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('allowedHostArgs: Vite\'s allowedHosts and host become --allow-host', () => {
  assert.deepEqual(allowedHostArgs({}), []);
  assert.deepEqual(allowedHostArgs({ allowedHosts: ['app.test', '.example.com'], host: 'vm-1' }),
    ['--allow-host', 'app.test', '--allow-host', 'vm-1']);
  assert.deepEqual(allowedHostArgs({ allowedHosts: true }), []);
  const all = allowedHostArgs({ host: true });
  assert.ok(all.includes('127.0.0.1'), 'every interface address when Vite listens on all of them');
});

test('scriptJSON: safe inside <script>, and the same value once parsed', () => {
  const value = { s: '</script><script>alert(1)</script>', c: '<!-- x -->', a: 'a & b', l: '\u2028\u2029', n: [1, null, true] };
  const out = scriptJSON(value);
  assert.ok(!out.includes('<') && !out.includes('>') && !out.includes('\u2028'), out);
  assert.deepEqual(new Function(`return ${out};`)(), value);
});

test('codeFrame and the overlay payload: file, line, column and a caret', () => {
  const text = '{\n  "a": 1,\n  "b" 2\n}\n';
  assert.equal(codeFrame(text, 3, 7), '1 | {\n2 |   "a": 1,\n3 |   "b" 2\n  |       ^\n4 | }');
  const dir = tmp();
  try {
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, text);
    const p = fileErrorPayload({ name: 'state', file, error: { message: "expected ':'", line: 3, column: 7, text: '  "b" 2' } }, dir);
    assert.equal(p.plugin, 'mirrorstate');
    assert.deepEqual(p.loc, { file, line: 3, column: 7 });
    assert.equal(p.id, file);
    assert.match(p.message, /^state\.json:3:7: invalid JSON: expected ':'\n/);
    assert.match(p.frame, /^3 \| {3}"b" 2$/m);
    fs.rmSync(file);
    const q = fileErrorPayload({ name: 'state', file, error: { message: 'x', line: 3, column: 7, text: '  "b" 2' } }, '/elsewhere');
    assert.match(q.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:7:`), 'an absolute path outside the root');
    assert.equal(q.frame, '3 |   "b" 2\n  |       ^', 'the line the server reported when the file is gone');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bootData: every state with its version, absent ones as exists:false, nested names', async () => {
  const dir = tmp();
  let s;
  try {
    fs.mkdirSync(path.join(dir, 'states', 'app'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'states', 'app', 'ui.json'), '{"tab":"a</script>"}');
    fs.writeFileSync(path.join(dir, 'states', 'top.json'), '[1,2]');
    s = await startServer({ dir: 'states', files: ['missing.json'], cwd: dir });
    const boot = await bootData(s.http);
    assert.equal(boot.url, '/_mirrorstate/ws');
    assert.deepEqual(boot.states, {
      'app/ui': { version: 1, exists: true, state: { tab: 'a</script>' } },
      top: { version: 1, exists: true, state: [1, 2] },
      missing: { version: 0, exists: false },
    });
  } finally {
    await stopServer(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
