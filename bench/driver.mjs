// Load driver: runs every scenario against MirrorState and the Node.js
// reference server (chokidar and fs.watch modes), each started fresh on
// 127.0.0.1 with port 0 in a temporary directory, and prints one table.
//
//   node bench/driver.mjs [--smoke] [--bin build/mirrorstate] [--only s1,s2,...]
//                         [--servers ms,chokidar,fswatch] [--json FILE]
//
// --smoke runs a tiny version of every scenario (small counts, no timing
// assertions) and exits non-zero if any scenario breaks: a server that does
// not start or answer, a change that never arrives, a lost update.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  connect as connectClient, cpuMs, launch, pretty, removeDir, rssKiB, saveInPlace, saveViaRename, sleep,
  startServer as startMirrorState, stopServer, tempDir as libTempDir, withTimeout,
} from "../tests/lib/index.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const argv = process.argv.slice(2);
const flag = (n) => argv.includes(n);
const opt = (n, d) => {
  const i = argv.indexOf(n);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d;
};
const SMOKE = flag("--smoke");
const BIN = path.resolve(root, opt("--bin", process.env.MIRRORSTATE_BIN || "build/mirrorstate"));
const ONLY = opt("--only", "s1,s2,s3,s4,s5,s6").split(",");
const SERVER_KEYS = opt("--servers", "ms,chokidar,fswatch").split(",");
const JSON_OUT = opt("--json", "");

// Counts. The full run takes a few minutes; smoke stays well under 30 s.
const N = SMOKE
  ? { s1: 6, s2: 6, s3: [10, 50], s3edits: 2, s4bytes: 1 << 20, s4edits: 2, s5: 300, detector: 20 }
  : { s1: 300, s2: 300, s3: [10, 100, 1000], s3edits: 30, s4bytes: 10 << 20, s4edits: 20, s5: 5000, detector: 300 };

// MS_WRAP="valgrind --tool=callgrind" (or "perf record -g -o FILE") runs
// MirrorState under a profiler; its RSS is then the profiler's.
const MS_WRAP = (process.env.MS_WRAP || "").split(/\s+/).filter(Boolean);
const START_TIMEOUT = 15000;

// Each starts a server on 127.0.0.1, port 0, and resolves once it printed
// its URL line.
const nodeServer = (watch) => (file) => launch(process.execPath,
  [path.join(here, "node-server.mjs"), "--file", file, "--port", "0", "--watch", watch], { timeout: START_TIMEOUT });
const SERVERS = {
  ms: { label: "MirrorState", start: (file) => startMirrorState({ files: [file], args: ["-q"], bin: BIN, wrap: MS_WRAP, timeout: START_TIMEOUT }) },
  chokidar: { label: "Node+chokidar", start: nodeServer("chokidar") },
  fswatch: { label: "Node+fs.watch", start: nodeServer("fswatch") },
};

const tempDir = (tag) => libTempDir(`msbench-${tag}-`);

const failures = [];
function fail(what) {
  failures.push(what);
  console.error(`FAIL: ${what}`);
}

const now = () => performance.now();

// --- states --------------------------------------------------------------------

// {"counter": N, "items": [...]} pretty-printed to about `bytes`. The counter
// is the first key so one edit is a cheap string splice, not a re-stringify.
function makeState(bytes) {
  const items = [];
  let size = 40;
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, text: `item ${i}: buy something useful`, done: i % 3 === 0, tags: ["home", "shop"] };
    items.push(item);
    const t = JSON.stringify(item, null, 2);
    size += t.length + 4 * t.split("\n").length + 2; // 4 deeper, and ",\n"
  }
  const text = pretty({ counter: 0, items });
  const head = '{\n  "counter": 0';
  if (!text.startsWith(head)) throw new Error("unexpected layout");
  const tail = text.slice(head.length);
  return { bytes: text.length, textFor: (n) => `{\n  "counter": ${n}${tail}` };
}

function hasCounter(msg, n) {
  return msg.type === "patch" && Array.isArray(msg.ops) &&
    msg.ops.some((o) => o.path === "/counter" && o.value === n);
}

// --- clients -------------------------------------------------------------------

// A connected client (the hello has arrived) that stores nothing: next()
// sees only the messages that arrive while it waits, and onmessage(msg,
// data), when set, is called for every message.
function connect(port) {
  return connectClient({ port }, {
    keep: false, timeout: 30000, ws: { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 },
  });
}

function nextMessage(c, pred, ms, what) {
  return c.next(pred, ms).catch((e) => { throw new Error(`${what}: ${e.message.split("\n")[0]}`); });
}

const subscribe = (c, name, ms = 30000) => c.subscribe(name, undefined, ms);

async function connectMany(port, n, name) {
  const clients = [];
  const batch = 50;
  for (let i = 0; i < n; i += batch) {
    const group = await withTimeout(Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () => connect(port))), 30000, "connect");
    await withTimeout(Promise.all(group.map((c) => subscribe(c, name))), 30000, "subscribe");
    clients.push(...group);
  }
  return clients;
}

function closeAll(clients) {
  for (const c of clients) {
    c.onmessage = null;
    c.close();
  }
}

// --- statistics ----------------------------------------------------------------

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN);
  return { n: s.length, p50: q(50), p90: q(90), p99: q(99), max: s.length ? s[s.length - 1] : NaN };
}

const results = {}; // results[scenario][serverKey] = {...}
function record(scenario, key, value) {
  (results[scenario] ??= {})[key] = value;
}

// --- file writes from the driver ---------------------------------------------

const writeInPlace = saveInPlace;
const writeRename = saveViaRename;

// Edits the file and waits until client c has the change as a patch.
async function editAndWait(c, file, text, n, write, ms) {
  const got = nextMessage(c, (m) => hasCounter(m, n), ms, `file edit ${n} reaching the client`);
  const t0 = now();
  write(file, text);
  await got;
  return now() - t0;
}

// --- scenarios -------------------------------------------------------------------

async function withServer(key, tag, text, body) {
  const dir = tempDir(tag);
  const file = path.join(dir, "state.json");
  fs.writeFileSync(file, text);
  let srv;
  try {
    srv = await SERVERS[key].start(file);
    return await body(srv, file, dir);
  } catch (e) {
    fail(`${tag} ${SERVERS[key].label}: ${e.message}${srv ? `\n${srv.stderrTail(4000)}` : ""}`);
    return null;
  } finally {
    if (srv) await stopServer(srv, 5000);
    removeDir(dir);
  }
}

const small = makeState(10 * 1024);

// 1. file edit -> client message, 10 KB state; also the idle RSS (6).
async function s1(key) {
  await withServer(key, "s1", small.textFor(0), async (srv, file) => {
    await sleep(300);
    const idle = rssKiB(srv.pid);
    const c = await connect(srv.port);
    await subscribe(c, "state");
    let n = 0;
    for (const [mode, write] of [["inplace", writeInPlace], ["rename", writeRename]]) {
      const samples = [];
      for (let i = 0; i < N.s1; i++) {
        n++;
        samples.push(await editAndWait(c, file, small.textFor(n), n, write, 5000));
        await sleep(key === "chokidar" ? 5 : 3);
      }
      record(`s1_${mode}`, key, stats(samples));
    }
    closeAll([c]);
    record("s6_idle", key, { value: idle / 1024 });
  });
}

// Driver's own detector: a plain temp+rename write by the driver, seen by
// fs.watch on the directory and confirmed by reading the file.
async function detectorFloor() {
  const dir = tempDir("det");
  const file = path.join(dir, "state.json");
  const base = "state.json";
  let want = null;
  const w = fs.watch(dir, (ev, fn) => {
    if (fn !== base || !want) return;
    if (fs.readFileSync(file, "utf8").startsWith(want.prefix)) {
      const r = want;
      want = null;
      r.resolve(now());
    }
  });
  const samples = [];
  try {
    for (let i = 1; i <= N.detector; i++) {
      const text = small.textFor(i);
      const p = withTimeout(new Promise((resolve) => { want = { prefix: `{\n  "counter": ${i},\n`, resolve }; }), 3000, "detector");
      writeRename(file, text);
      const t0 = now();
      samples.push((await p) - t0);
      await sleep(2);
    }
  } finally {
    w.close();
    removeDir(dir);
  }
  record("detector", "driver", stats(samples));
}

// 2. client patch -> file on disk.
async function s2(key) {
  await withServer(key, "s2", small.textFor(0), async (srv, file, dir) => {
    const c = await connect(srv.port);
    await subscribe(c, "state");
    const base = path.basename(file);
    let want = null;
    const check = () => {
      if (!want) return;
      let text;
      try { text = fs.readFileSync(file, "utf8"); } catch { return; }
      if (text.startsWith(want.prefix)) {
        const r = want;
        want = null;
        r.resolve(now());
      }
    };
    // The WebSocket floor: an empty patch is acked at once, with no change,
    // file or broadcast behind it.
    const rtt = [];
    for (let i = 0; i < Math.min(N.s2, 100); i++) {
      const acked = nextMessage(c, (m) => m.type === "ack" && m.ref === `e${i}`, 5000, `ack of an empty patch`);
      const t0 = now();
      c.ws.send(JSON.stringify({ type: "patch", name: "state", ops: [], ref: `e${i}` }));
      await acked;
      rtt.push(now() - t0);
    }
    record("s0_rtt", key, stats(rtt));
    const w = fs.watch(dir, (ev, fn) => { if (fn === base) check(); });
    const samples = [];
    try {
      for (let i = 1; i <= N.s2; i++) {
        const onDisk = new Promise((resolve) => { want = { prefix: `{\n  "counter": ${i},\n`, resolve }; });
        const acked = nextMessage(c, (m) => m.type === "ack" && m.ref === i, 5000, `ack ${i}`);
        const t0 = now();
        c.ws.send(JSON.stringify({ type: "patch", name: "state", ops: [{ op: "replace", path: "/counter", value: i }], ref: i }));
        const t1 = await withTimeout(onDisk, 5000, `patch ${i} reaching the file`).catch((e) => {
          check(); // a missed event still fails below unless the file has it
          if (want) throw e;
          return now();
        });
        await acked;
        samples.push(t1 - t0);
        await sleep(3);
      }
    } finally {
      w.close();
      closeAll([c]);
    }
    record("s2", key, stats(samples));
  });
}

// 3. fan-out of one file edit to N clients (until the last has it); and the
// RSS with the largest N connected and subscribed (6).
async function s3(key) {
  for (const n of N.s3) {
    await withServer(key, `s3-${n}`, small.textFor(0), async (srv, file) => {
      const clients = await connectMany(srv.port, n, "state");
      await sleep(200);
      const rssSubscribed = rssKiB(srv.pid);
      const samples = [];
      const first = [];
      const cpu0 = cpuMs(srv.pid);
      for (let e = 1; e <= N.s3edits; e++) {
        let left = n;
        let tFirst = 0;
        const done = new Promise((resolve) => {
          for (const c of clients) {
            c.onmessage = (msg) => {
              if (!hasCounter(msg, e)) return;
              c.onmessage = null;
              if (!tFirst) tFirst = now();
              if (--left === 0) resolve(now());
            };
          }
        });
        const t0 = now();
        writeRename(file, small.textFor(e));
        const t1 = await withTimeout(done, 10000, `fan-out ${e} to ${n} clients (${left} missing)`);
        samples.push(t1 - t0);
        first.push(tFirst - t0);
        await sleep(key === "chokidar" ? 20 : 10);
      }
      const cpu = (cpuMs(srv.pid) - cpu0) / N.s3edits;
      const rssAfter = rssKiB(srv.pid);
      closeAll(clients);
      record(`s3_${n}`, key, { ...stats(samples), first: stats(first).p50, cpu });
      if (n === N.s3[N.s3.length - 1])
        record("s6_clients", key, { value: Math.max(rssSubscribed, rssAfter) / 1024, clients: n });
    });
  }
}

// 4. one-key edit of a large state, file edit -> client message, and the
// bytes the client received for it.
async function s4(key) {
  const big = makeState(N.s4bytes);
  await withServer(key, "s4", big.textFor(0), async (srv, file) => {
    const c = await connect(srv.port);
    await subscribe(c, "state", 60000);
    const samples = [];
    const wire = [];
    const cpu0 = cpuMs(srv.pid);
    for (let i = 1; i <= N.s4edits; i++) {
      const text = big.textFor(i);
      const before = c.ws._socket.bytesRead;
      samples.push(await editAndWait(c, file, text, i, writeRename, 20000));
      await sleep(key === "chokidar" ? 100 : 50);
      wire.push(c.ws._socket.bytesRead - before);
    }
    const cpu = (cpuMs(srv.pid) - cpu0) / N.s4edits;
    closeAll([c]);
    record("s4", key, { ...stats(samples), wire: stats(wire).max, stateBytes: big.bytes, cpu });
  });
}

// 5. back-to-back client patches: throughput, and every one in the file.
async function s5(key) {
  const count = N.s5;
  await withServer(key, "s5", '{\n  "log": []\n}\n', async (srv, file) => {
    const c = await connect(srv.port);
    await subscribe(c, "state");
    let acks = 0;
    let errors = 0;
    let firstError = null;
    const done = new Promise((resolve) => {
      c.onmessage = (msg) => {
        if (msg.type === "ack") acks++;
        else if (msg.type === "error") {
          errors++;
          firstError ??= msg;
        } else return;
        if (acks + errors === count) resolve(now());
      };
    });
    const t0 = now();
    for (let i = 0; i < count; i++)
      c.ws.send(`{"type":"patch","name":"state","ops":[{"op":"add","path":"/log/-","value":${i}}],"ref":${i}}`);
    const tAcks = await withTimeout(done, 60000, `acks for ${count} patches (${acks} so far)`);
    // The file: every value once, in order.
    let seen = 0;
    let tFile = NaN;
    const deadline = now() + 15000;
    while (now() < deadline) {
      try {
        const log = JSON.parse(fs.readFileSync(file, "utf8")).log;
        seen = new Set(log).size;
        if (seen === count) {
          tFile = now();
          break;
        }
      } catch { /* mid-rename or empty: read again */ }
      await sleep(5);
    }
    closeAll([c]);
    const lost = count - seen;
    if (errors) fail(`s5 ${SERVERS[key].label}: ${errors} patches refused, first: ${JSON.stringify(firstError)}`);
    if (lost) fail(`s5 ${SERVERS[key].label}: ${lost} of ${count} updates missing from the file`);
    record("s5", key, {
      count, errors, lost,
      perSec: (count / (tAcks - t0)) * 1000,
      fileMs: tFile - t0,
    });
  });
}

// --- output ----------------------------------------------------------------------

const f1 = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : "-");
const pq = (r) => (r ? `${f1(r.p50)} / ${f1(r.p99)}` : "-");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(1)}x` : "-");

function table() {
  const keys = SERVER_KEYS;
  const nodeKeys = keys.filter((k) => k !== "ms");
  const rows = [];
  const lat = (id, label, target) => {
    const r = results[id];
    if (!r) return;
    rows.push([label, "p50 / p99 ms", ...keys.map((k) => pq(r[k])),
      ...nodeKeys.map((k) => (r.ms && r[k] ? `${ratio(r[k].p50, r.ms.p50)} / ${ratio(r[k].p99, r.ms.p99)}` : "-")), target]);
  };
  lat("s0_rtt", "floor: empty patch -> ack round trip", "");
  lat("s1_inplace", "file edit -> client, 10 KB, in-place write", "0.3 / 1");
  lat("s1_rename", "file edit -> client, 10 KB, temp+rename", "0.3 / 1");
  lat("s2", "client patch -> file on disk (incl. detector)", "0.6 / 1.5");
  for (const n of N.s3) lat(`s3_${n}`, `fan-out of one file edit to ${n} clients (last)`, n === 1000 ? "5 / 10" : "");
  lat("s4", `one-key edit of a ${(N.s4bytes / 1048576).toFixed(0)} MB state, end to end`, N.s4bytes >= 10 << 20 ? "60 / 100" : "");
  if (results.s4) {
    rows.push(["  bytes on the wire for that edit", "bytes", ...keys.map((k) => (results.s4[k] ? String(results.s4[k].wire) : "-")),
      ...nodeKeys.map((k) => (results.s4.ms && results.s4[k] ? ratio(results.s4[k].wire, results.s4.ms.wire) : "-")), ""]);
  }
  if (results.s5) {
    const r = results.s5;
    rows.push([`${N.s5} back-to-back client patches`, "patches/s (acked)", ...keys.map((k) => (r[k] ? r[k].perSec.toFixed(0) : "-")),
      ...nodeKeys.map((k) => (r.ms && r[k] ? ratio(r.ms.perSec, r[k].perSec) : "-")), "20000"]);
    rows.push(["  all in the file after", "ms; lost", ...keys.map((k) => (r[k] ? `${f1(r[k].fileMs)}; ${r[k].lost}` : "-")),
      ...nodeKeys.map(() => ""), "none lost"]);
  }
  const mem = (id, label, target) => {
    const r = results[id];
    if (!r) return;
    rows.push([label, "MB", ...keys.map((k) => (r[k] ? r[k].value.toFixed(1) : "-")),
      ...nodeKeys.map((k) => (r.ms && r[k] ? ratio(r[k].value, r.ms.value) : "-")), target]);
  };
  mem("s6_idle", "resident memory, idle (10 KB state)", "3");
  const big = N.s3[N.s3.length - 1];
  mem("s6_clients", `resident memory, ${big} clients subscribed`, big === 1000 ? "30" : "");

  const head = ["scenario", "metric", ...keys.map((k) => SERVERS[k].label),
    ...nodeKeys.map((k) => `${SERVERS[k].label}/MS`), "MS target"];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(w[i])).join(" | ")} |`;
  const out = [line(head), `|${w.map((x) => "-".repeat(x + 2)).join("|")}|`, ...rows.map(line)];
  return out.join("\n");
}

function details() {
  const out = [];
  const fmt = (r) => `n=${r.n} p50=${f1(r.p50)} p90=${f1(r.p90)} p99=${f1(r.p99)} max=${f1(r.max)}`;
  for (const [id, per] of Object.entries(results)) {
    for (const [k, r] of Object.entries(per)) {
      const label = k === "driver" ? "driver" : SERVERS[k].label;
      if (r.n !== undefined) out.push(`${id.padEnd(12)} ${label.padEnd(14)} ${fmt(r)} ms${r.first !== undefined ? ` (first client p50 ${f1(r.first)})` : ""}${r.wire !== undefined ? ` (wire ${r.wire} B, state ${r.stateBytes} B)` : ""}${r.cpu !== undefined ? ` (server CPU ${f1(r.cpu)} ms per change)` : ""}`);
      else if (r.perSec !== undefined) out.push(`${id.padEnd(12)} ${label.padEnd(14)} ${r.perSec.toFixed(0)} patches/s acked, file complete after ${f1(r.fileMs)} ms, errors ${r.errors}, lost ${r.lost}`);
      else out.push(`${id.padEnd(12)} ${label.padEnd(14)} ${r.value.toFixed(1)} MB`);
    }
  }
  return out.join("\n");
}

// --- main ------------------------------------------------------------------------

async function main() {
  const start = now();
  if (!fs.existsSync(BIN)) {
    console.error(`${BIN} not found: build first (make build)`);
    process.exit(2);
  }
  const cpu = os.cpus()[0]?.model ?? "unknown";
  console.log(`MirrorState benchmark${SMOKE ? " (smoke)" : ""}: ${os.cpus().length} CPUs (${cpu}), Linux ${os.release()}, Node ${process.version}`);
  if (ONLY.includes("s2")) {
    await detectorFloor().catch((e) => fail(`detector: ${e.message}`));
  }
  const scen = { s1, s2, s3, s4, s5 };
  for (const id of ["s1", "s2", "s3", "s4", "s5"]) {
    if (!ONLY.includes(id) && !(id === "s1" && ONLY.includes("s6")) && !(id === "s3" && ONLY.includes("s6"))) continue;
    for (const key of SERVER_KEYS) {
      const t = now();
      await scen[id](key);
      console.error(`  ${id} ${SERVERS[key].label}: ${((now() - t) / 1000).toFixed(1)} s`);
    }
  }
  console.log();
  console.log(table());
  console.log();
  if (results.detector) {
    const d = results.detector.driver;
    console.log(`Driver's own detector (fs.watch on the directory + read to confirm, after a plain temp+rename write): p50 ${f1(d.p50)} ms, p99 ${f1(d.p99)} ms. It is included in "client patch -> file".`);
  }
  console.log("Ratios are Node time / MirrorState time (throughput: MirrorState / Node): above 1x, MirrorState is ahead.");
  console.log();
  console.log(details());
  console.log(`\ntotal ${((now() - start) / 1000).toFixed(1)} s`);
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, pretty({ smoke: SMOKE, results }));
  if (failures.length) {
    console.log(`\n${failures.length} scenario(s) broke:\n- ${failures.join("\n- ")}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
