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
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

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
function shuffled(n) {
  const a = range(n);
  let seed = 42;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

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

function healthz(port, timeout = 10000) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/_mirrorstate/healthz', timeout }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('timeout', () => { req.destroy(); resolve(null); });
    req.on('error', () => resolve(null));
  });
}

function childOf(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]) || null;
  } catch {
    return null;
  }
}

async function run(name) {
  const sc = SCENARIOS[name];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-hostile-'));
  const file = path.join(dir, 's.json');
  fs.writeFileSync(file, JSON.stringify(sc.state, null, 2) + '\n');
  const serve = [BIN, 'serve', '--file', file, '--port', '0', '--host', '127.0.0.1', '-q', ...(sc.args || [])];
  const shell = `ulimit -v ${AS_MB * 1024}; exec "$@"`;
  const proc = spawn('/usr/bin/time', ['-v', 'sh', '-c', shell, 'sh', ...serve], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL: ${err}`)), 10000);
    proc.stdout.on('data', () => {
      const m = /:(\d+)\//.exec(out);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/_mirrorstate/ws`, ['mirrorstate.v1'], { maxPayload: 1 << 30 });
  const inbox = [];
  let wake = () => {};
  let closed = false;
  ws.on('message', (d) => { inbox.push(JSON.parse(d.toString())); wake(); });
  ws.on('close', () => { closed = true; wake(); });
  ws.on('error', () => {});
  const next = (pred) => new Promise((resolve) => {
    const t = setTimeout(() => resolve({ timeout: true }), ANSWER_TIMEOUT);
    const check = () => {
      const i = inbox.findIndex(pred);
      if (i >= 0) { clearTimeout(t); resolve(inbox.splice(i, 1)[0]); } else if (closed) { clearTimeout(t); resolve({ closed: true }); }
    };
    wake = check;
    check();
  });
  await new Promise((r) => ws.on('open', r));
  ws.send(JSON.stringify({ type: 'subscribe', name: 's' }));
  await next((m) => m.type === 'snapshot');
  const msgs = sc.messages();
  const answers = [];
  let health = null;
  const t0 = performance.now();
  for (const m of msgs) {
    ws.send(JSON.stringify(m));
    // Asked once the message is on its way: does the loop still answer?
    if (!health) health = new Promise((r) => setTimeout(r, 100)).then(() => healthz(port, ANSWER_TIMEOUT));
    answers.push(await next((x) => (x.type === 'ack' || x.type === 'error') && x.ref === m.ref));
  }
  const ms = performance.now() - t0;
  const healthMs = await health;
  ws.terminate();
  const server = childOf(proc.pid);
  const t1 = performance.now();
  if (server) process.kill(server, 'SIGTERM');
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 60000))]);
  const stopMs = performance.now() - t1;
  if (code === 'hung') proc.kill('SIGKILL');
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  const status = /Command terminated by signal (\d+)|Exit status: (\d+)/.exec(err);
  const last = answers[answers.length - 1];
  const answer = last.timeout ? 'no answer' : last.closed ? 'connection lost' : last.type === 'ack' ? `ack v${last.version}` : `error ${last.code}`;
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    name,
    answer,
    seconds: (ms / 1000).toFixed(2),
    healthz: healthMs === null ? 'no answer' : `${(healthMs / 1000).toFixed(2)} s`,
    stop: `${(stopMs / 1000).toFixed(2)} s`,
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
