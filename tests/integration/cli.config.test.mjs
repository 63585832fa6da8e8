// Configurations that cannot work are refused at start, saying why, before
// anything is printed or written: one file named twice on the command line
// (it would be two states, each writing over the other's changes), and a
// --host address that is not this machine's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { runCli, setup } from '../lib/index.mjs';

const TIMEOUT = 10000;

/** Runs `serve` in h.dir with args; asserts exit `code`, the message, and
 * that nothing was printed on stdout or left in the directory. */
async function refused(h, args, code, pattern) {
  const before = fs.readdirSync(h.dir).sort();
  const r = await runCli(['serve', ...args, '--port', '0'], { cwd: h.dir, timeout: TIMEOUT });
  const what = `serve ${args.join(' ')}: ${JSON.stringify({ code: r.code, signal: r.signal })}; stderr: ${r.stderr}`;
  assert.equal(r.code, code, what);
  assert.match(r.stderr, /^mirrorstate: error: /m, what);
  assert.match(r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /mirrored already by another server/, `${what}: took itself for another server`);
  assert.equal(r.stdout, '', `${what}: printed a URL`);
  assert.deepEqual(fs.readdirSync(h.dir).sort(), before, `${what}: left something behind`);
  assert.doesNotMatch(r.stderr, /lws|libwebsockets|ERROR on binding/i, `${what}: library lines leaked`);
}

// ---------------------------------------------------------------- one file, named twice

test('the same --file twice is a configuration error (exit 2) that says so', async (t) => {
  const h = setup(t);
  h.file('s.json', { a: 1 });
  await refused(h, ['--file', 's.json', '--file', 's.json'], 2, /--file s\.json is given twice/);
  await refused(h, ['--file', 's.json', '--file', 'other.json', '--file', 's.json'], 2, /--file s\.json is given twice/);
});

test('two paths of one --file (spellings, a symbolic link) are one file: exit 2 naming both', async (t) => {
  const h = setup(t);
  h.file('s.json', { a: 1 });
  fs.mkdirSync(h.path('sub'));
  fs.symlinkSync(h.path('s.json'), h.path('link.json'));
  const real = fs.realpathSync(h.path('s.json'));
  for (const other of ['./s.json', 'sub/../s.json', h.path('s.json'), 'link.json']) {
    await refused(h, ['--file', 's.json', '--file', other], 2,
      new RegExp(`--file s\\.json and --file ${other.replace(/[.\\/]/g, '\\$&')} are the same file \\(${real.replace(/[.\\/]/g, '\\$&')}\\)`));
  }
  // A file that does not exist yet counts too.
  await refused(h, ['--file', 'new.json', '--file', './new.json'], 2, /are the same file/);
});

test('a --dir twice, or inside another --dir, is a configuration error (exit 2)', async (t) => {
  const h = setup(t);
  h.file('d/a.json', { a: 1 });
  h.file('d/sub/b.json', { b: 1 });
  await refused(h, ['--dir', 'd', '--dir', 'd'], 2, /--dir d is given twice/);
  await refused(h, ['--dir', 'd', '--dir', './d/'], 2, /--dir d and --dir \.\/d\/ are the same directory/);
  await refused(h, ['--dir', 'd', '--dir', 'd/sub'], 2, /--dir d\/sub is inside --dir d, which mirrors its files already \(as states sub\/\.\.\.\)/);
  await refused(h, ['--dir', 'd/sub', '--dir', 'd'], 2, /--dir d\/sub is inside --dir d/);
});

test('a --file that a --dir mirrors already is a configuration error (exit 2) naming its state', async (t) => {
  const h = setup(t);
  h.file('d/a.json', { a: 1 });
  h.file('d/sub/b.json', { b: 1 });
  fs.symlinkSync(h.path('d', 'sub', 'b.json'), h.path('outside.json'));
  await refused(h, ['--file', 'd/a.json', '--dir', 'd'], 2, /--file d\/a\.json is inside --dir d, which mirrors it already \(as state 'a'\)/);
  await refused(h, ['--dir', 'd', '--file', 'd/sub/b.json'], 2, /as state 'sub\/b'/);
  // Through a link, and before the file exists.
  await refused(h, ['--dir', 'd', '--file', 'outside.json'], 2, /--file outside\.json is inside --dir d, which mirrors it already \(as state 'sub\/b'\)/);
  await refused(h, ['--dir', 'd', '--file', 'd/later.json'], 2, /as state 'later'/);
});

test('what a --dir does not mirror can be a --file beside it; distinct files are fine', async (t) => {
  const h = setup(t);
  h.file('d/a.json', { a: 1 });
  const hidden = h.file('d/.hidden/h.json', { h: 1 });
  const vendored = h.file('d/node_modules/x.json', { x: 1 });
  const other = h.file('o/b.json', { b: 1 });
  const srv = await h.server({ dir: h.path('d'), files: [hidden, vendored, other] });
  assert.doesNotMatch(srv.stderr, /error/);
  await srv.stop();
  // A dot folder under a --dir is not scanned: it can be a --dir of its own.
  const dotted = await h.server({ dir: h.path('d', '.hidden'), args: ['--dir', h.path('d')] });
  await dotted.stop();
});

// ---------------------------------------------------------------- --host

test('a --host address that is not this machine\'s: exit 1 with the reason, no URL, no runtime file', async (t) => {
  const h = setup(t);
  h.file('s.json', { a: 1 });
  // Addresses reserved for documentation (RFC 5737, RFC 3849): never a
  // machine's own.
  for (const host of ['192.0.2.1', '2001:db8::7']) {
    await refused(h, ['--file', 's.json', '--host', host], 1,
      new RegExp(`cannot listen on ${host.replace(/[.]/g, '\\.')} port \\d+: ${host.replace(/[.]/g, '\\.')} is not an address of this machine`));
    // Beside an address that works, too: the server does not half-start.
    await refused(h, ['--file', 's.json', '--host', '127.0.0.1', '--host', host], 1, /is not an address of this machine/);
  }
});
