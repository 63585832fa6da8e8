// setup(t): what most server tests need, cleaned up when the test ends.

import fs from 'node:fs';
import path from 'node:path';
import { connect, tryConnect } from './client.mjs';
import { removeDir, tempDir } from './files.mjs';
import { pretty } from './json.mjs';
import { startServer } from './server.mjs';

/**
 * A fresh temporary directory and helpers whose servers and clients are
 * cleaned up after the test (node:test's t.after): servers still running
 * are stopped with SIGTERM and must exit with code 0; the directory is
 * removed.
 */
export function setup(t) {
  const dir = tempDir('mirrorstate-it-');
  const servers = [];
  const clients = [];
  let n = 0;
  const h = {
    dir,
    path: (...p) => path.join(dir, ...p),
    /** Writes a state file pretty-printed (or a raw string); returns its path. */
    file(name, value) {
      const p = path.join(dir, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, typeof value === 'string' ? value : pretty(value));
      return p;
    },
    /** startServer() with the directory as its working directory. */
    async server(opts = {}) {
      const srv = await startServer({ cwd: dir, ...opts });
      servers.push(srv);
      return srv;
    },
    /** A connected Client (the hello received); the upgrade must succeed. */
    async client(srv, opts = {}) {
      const c = await connect(srv, { ...opts, label: opts.label || `c${++n}` });
      clients.push(c);
      return c;
    },
    /** Like client() but returns the raw {status, client|body} answer. */
    async attempt(srv, opts = {}) {
      const r = await tryConnect(srv, { ...opts, label: opts.label || `c${++n}` });
      if (r.client) clients.push(r.client);
      return r;
    },
  };
  t.after(async () => {
    const errors = [];
    for (const s of servers) {
      if (s.stopped) continue;
      try { await s.stop(); } catch (e) { errors.push(e); }
    }
    for (const c of clients) c.close();
    removeDir(dir);
    if (errors.length) throw errors[0];
  });
  return h;
}
