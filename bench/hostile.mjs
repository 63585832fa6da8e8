// Hostile patches: what one client's messages cost the server, in time and
// memory. Each scenario starts a fresh server under `/usr/bin/time -v`
// (so its peak RSS is measured by the kernel), sends the messages, times
// the answer, checks that /healthz still answers, stops the server with
// SIGTERM and prints one line.
//
//   node bench/hostile.mjs [--bin build/mirrorstate] [--only a,b] [--as-limit-mb N]
//
// Scenarios:
//   depth      19 copies of the state into itself, each one level deeper
//              than the last ("copy" "" -> "/x/x/..."): depth doubles
//   size       40 x "copy" "" -> "/kN" with --max-state 1048576: size doubles
//   append     one patch of 40,000 "add /l/-"
//   replace    one patch of 40,000 "replace /l/i", random order, 40k list
//   insert     one patch of 40,000 "add /l/20000" into a 40k list
//   set        one "set" changing every element of a 40k list
//   history    8 patches of 100,000 "replace /a" each: no lookup cost,
//              only what the history keeps (ops and inverse)
//
// --as-limit-mb caps the server's address space (default 4096), so a server
// that grows without bound fails there instead of taking the machine.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  childPid, connect, pretty, removeDir, request, rng, startServer, tempDir,
} from '../tests/lib/index.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (n, d) => {
  const i = argv.indexOf(n);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d;
};
const BIN = path.resolve(root, opt('--bin', process.env.MIRRORSTATE_BIN || 'build/mirrorstate'));
const ONLY = opt('--only', 'depth,size,append,replace,insert,set,history').split(',');
const AS_MB = Number(opt('--as-limit-mb', '4096'));
const ANSWER_TIMEOUT = 600_000;

const range = (n) => Array.from({ length: n }, (_, i) => i);
const shuffled = (n) => rng(42).shuffle(range(n));

const SCENARIOS = {
  depth: {
    state: { x: {} },
    messages() {
      const ops = [];
      let p = '/x';
      for (let i = 0; i < 19; i++) {
        ops.push({ op: 'copy', from: '', path: p });
        p += p;
      }
      return [{ type: 'patch', name: 's', ops, ref: 1 }];
    },
  },
  size: {
    state: { a: '0123456789' },
    args: ['--max-state', '1048576'],
    messages: () => [{ type: 'patch', name: 's', ops: range(40).map((i) => ({ op: 'copy', from: '', path: `/k${i}` })), ref: 1 }],
  },
  append: {
    state: { l: [] },
    messages: () => [{ type: 'patch', name: 's', ops: range(40000).map((i) => ({ op: 'add', path: '/l/-', value: i })), ref: 1 }],
  },
  replace: {
    state: { l: range(40000) },
    messages: () => [{ type: 'patch', name: 's', ops: shuffled(40000).map((i) => ({ op: 'replace', path: `/l/${i}`, value: -i })), ref: 1 }],
  },
  insert: {
    state: { l: range(40000) },
    messages: () => [{ type: 'patch', name: 's', ops: range(40000).map((i) => ({ op: 'add', path: '/l/20000', value: i })), ref: 1 }],
  },
  set: {
    state: { l: range(40000) },
    messages: () => [{ type: 'set', name: 's', state: { l: range(40000).map((i) => i + 1) }, ref: 1 }],
  },
  history: {
    state: { a: 0 },
    messages: () => range(8).map((k) => ({ type: 'patch', name: 's', ops: range(100000).map((i) => ({ op: 'replace', path: '/a', value: k * 100000 + i + 1 })), ref: k + 1 })),
  },
};

/** Time /healthz takes to answer, in ms; null when it does not. */
async function healthz(srv, timeout = 10000) {
  const t0 = performance.now();
  try {
    await request(srv, '/_mirrorstate/healthz', { timeout });
    return performance.now() - t0;
  } catch {
    return null;
  }
}

async function run(name) {
  const sc = SCENARIOS[name];
  const dir = tempDir('ms-hostile-');
  const file = path.join(dir, 's.json');
  fs.writeFileSync(file, pretty(sc.state));
  // The server's peak RSS comes from /usr/bin/time; the server is its
  // child, behind a shell that caps the address space and execs it.
  const srv = await startServer({
    files: [file], args: ['-q', ...(sc.args || [])], bin: BIN,
    wrap: ['/usr/bin/time', '-v', 'sh', '-c', `ulimit -v ${AS_MB * 1024}; exec "$@"`, 'sh'],
  });
  srv.pid = childPid(srv.proc.pid) ?? srv.pid;
  const c = await connect(srv, { ws: { maxPayload: 1 << 30 } });
  // The answer, or {timeout: true} / {closed: true}.
  const next = (pred) => c.next(pred, ANSWER_TIMEOUT).catch(() => (c.closeInfo ? { closed: true } : { timeout: true }));
  await c.subscribe('s');
  const msgs = sc.messages();
  const answers = [];
  let health = null;
  const t0 = performance.now();
  for (const m of msgs) {
    c.send(m);
    // Asked once the message is on its way: does the loop still answer?
    if (!health) health = new Promise((r) => setTimeout(r, 100)).then(() => healthz(srv, ANSWER_TIMEOUT));
    answers.push(await next((x) => (x.type === 'ack' || x.type === 'error') && x.ref === m.ref));
  }
  const ms = performance.now() - t0;
  const healthMs = await health;
  c.close();
  const t1 = performance.now();
  const exit = await srv.signal('SIGTERM', 60000).catch(() => 'hung');
  const stopMs = performance.now() - t1;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(srv.stderr);
  const status = /Command terminated by signal (\d+)|Exit status: (\d+)/.exec(srv.stderr);
  const last = answers[answers.length - 1];
  const answer = last.timeout ? 'no answer' : last.closed ? 'connection lost' : last.type === 'ack' ? `ack v${last.version}` : `error ${last.code}`;
  removeDir(dir);
  return {
    name,
    answer,
    seconds: (ms / 1000).toFixed(2),
    healthz: healthMs === null ? 'no answer' : `${(healthMs / 1000).toFixed(2)} s`,
    stop: exit === 'hung' ? 'hung' : `${(stopMs / 1000).toFixed(2)} s`,
    peakRssMB: rss ? (Number(rss[1]) / 1024).toFixed(0) : '?',
    exit: status ? (status[1] ? `signal ${status[1]}` : `status ${status[2]}`) : '?',
  };
}

console.log(`binary: ${BIN}`);
console.log('scenario | answer | time to answer | healthz 0.1 s after sending | SIGTERM to exit | peak RSS | exit');
for (const name of ONLY) {
  const r = await run(name);
  console.log(`${r.name} | ${r.answer} | ${r.seconds} s | ${r.healthz} | ${r.stop} | ${r.peakRssMB} MB | ${r.exit}`);
}
