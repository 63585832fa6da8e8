// Something that is not a regular file takes the state file's place in
// the middle of the server's write (after the temporary file is fsync'ed,
// before the rename swaps it in): the shim moves a prepared FIFO or
// directory there at that exact point. The write's check of what it
// displaced must not block on the FIFO, must put either back where it
// was, and must report it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { setup, request, pretty, readText, sleep, QUIET, WAIT } from '../lib/index.mjs';
import { SHIM, shimEnv } from './lib.mjs';

const temps = (dir) => fs.readdirSync(dir).filter((n) => n.includes('.mirrorstate-'));

for (const kind of ['FIFO', 'directory']) {
  test(`a ${kind} swapped in mid-write is put back and reported, and the server keeps answering`, async (t) => {
    assert.ok(fs.existsSync(SHIM), `shim not built: ${SHIM}`);
    const h = setup(t);
    const file = h.file('state.json', { a: 1 });
    const incoming = h.path('incoming');
    const control = h.path('armed');
    const env = {
      ...shimEnv({ match: 'state.json.mirrorstate-', control, calls: 'fsync' }),
      FAILWRITE_MOVE_FROM: incoming,
      FAILWRITE_MOVE_TO: file,
    };
    const srv = await h.server({ files: [file], env });
    const c = await h.client(srv);
    await c.subscribe('state');
    if (kind === 'FIFO') assert.equal(spawnSync('mkfifo', [incoming]).status, 0, 'mkfifo failed');
    else fs.mkdirSync(incoming);
    fs.writeFileSync(control, '');
    c.patch('state', [{ op: 'replace', path: '/a', value: 2 }]);
    const err = await c.next({ type: 'error', code: 'file_invalid', name: 'state' });
    assert.match(err.message, kind === 'FIFO' ? /FIFO/ : /directory/);
    assert.ok(!err.text, `something was quoted: ${JSON.stringify(err)}`);
    const health = await request(srv, '/_mirrorstate/healthz', { timeout: WAIT });
    assert.equal(health.status, 200);
    // What came in stays where it came, and nothing is left behind.
    const st = fs.lstatSync(file);
    assert.ok(kind === 'FIFO' ? st.isFIFO() : st.isDirectory(), `the ${kind} was not put back`);
    assert.deepEqual(temps(h.dir), [], 'a temporary file or the displaced thing was left behind');
    // Replaced by a real file again: the client's change is merged and saved.
    fs.unlinkSync(control);
    if (kind === 'FIFO') fs.unlinkSync(file);
    else fs.rmdirSync(file);
    fs.writeFileSync(h.path('.next'), pretty({ a: 1, agent: true }));
    fs.renameSync(h.path('.next'), file);
    await c.next({ type: 'error', code: 'file_ok', name: 'state' });
    await sleep(QUIET);
    assert.deepEqual(JSON.parse(readText(file)), { a: 2, agent: true });
  });
}
