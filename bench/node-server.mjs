// Reference server for the benchmark: MirrorState's wire protocol v1, built
// the way Node.js projects usually do it: `ws`, fast-json-patch (apply and
// compare), and either chokidar with awaitWriteFinish or plain fs.watch.
//
//   node bench/node-server.mjs --file PATH [--port 0] [--watch chokidar|fswatch]
//
// It speaks enough of v1 for the benchmark: hello, subscribe (snapshot, with
// init), patch and set (ack to the sender, patch to the others), error
// (bad_message, unknown_state, invalid_patch, conflict). The first line on
// stdout is the URL, as MirrorState prints it. It binds 127.0.0.1 only.
//
// It is written to be as fast as a reasonable Node version gets:
// - one JSON.stringify per broadcast, shared by every client;
// - patches are applied in place (a multi-op patch on a copy of the touched
//   state, so a failing op leaves nothing half-applied);
// - file writes in one loop turn are coalesced (setImmediate), written with
//   the synchronous fs calls (no thread-pool hop), temp file + fsync +
//   rename, as write-file-atomic does;
// - its own writes are recognised by content (no feedback loop);
// - fs.watch mode reads the file on the first event of a loop turn with no
//   settle delay; a half-written file that does not parse waits for the
//   next event.
import fs from "node:fs";
import path from "node:path";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { WebSocketServer } from "ws";
import jsonpatch from "fast-json-patch";

const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const file = path.resolve(opt("--file", ""));
const port = Number(opt("--port", "0"));
const watchMode = opt("--watch", "fswatch");
if (!opt("--file", "")) {
  console.error("usage: node-server.mjs --file PATH [--port N] [--watch chokidar|fswatch]");
  process.exit(2);
}
if (watchMode !== "chokidar" && watchMode !== "fswatch") {
  console.error("--watch must be chokidar or fswatch");
  process.exit(2);
}

const name = path.basename(file).replace(/\.json$/, "");
const dir = path.dirname(file);
const base = path.basename(file);
const session = randomBytes(8).toString("hex");

let state; // undefined while the state does not exist
let version = 0;
let lastText = null; // bytes last read from or written to the file
let nextClient = 0;

function loadFile() {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return;
  }
  try {
    state = JSON.parse(text);
    version = 1;
    lastText = text;
  } catch (e) {
    console.error(`${file}: invalid JSON: ${e.message}`);
  }
}
loadFile();

// --- writing the file --------------------------------------------------------

let writeQueued = false;
function scheduleWrite() {
  if (writeQueued) return;
  writeQueued = true;
  setImmediate(writeNow);
}
function writeNow() {
  writeQueued = false;
  if (state === undefined) return;
  const text = JSON.stringify(state, null, 2) + "\n";
  if (text === lastText) return;
  const tmp = path.join(dir, `.${base}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  lastText = text;
}

// --- changes from the file ---------------------------------------------------

function fileChanged() {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return; // removed; the state stays in memory
  }
  if (text === lastText) return; // our own write, or the same bytes
  let next;
  try {
    next = JSON.parse(text);
  } catch {
    return; // mid-save: the next event brings the rest
  }
  lastText = text;
  if (state === undefined) {
    state = next;
    version = 1;
    broadcast({ type: "snapshot", name, version, state }, null);
    return;
  }
  const ops = jsonpatch.compare(state, next);
  state = next;
  if (ops.length === 0) return;
  version++;
  broadcast({ type: "patch", name, version, ops, origin: "file" }, null);
}

if (watchMode === "chokidar") {
  const { watch } = await import("chokidar");
  const w = watch(file, {
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 },
  });
  w.on("add", fileChanged);
  w.on("change", fileChanged);
  await new Promise((resolve) => w.once("ready", resolve));
} else {
  let queued = false;
  fs.watch(dir, (event, filename) => {
    if (filename !== base || queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      fileChanged();
    });
  });
}

// --- clients -----------------------------------------------------------------

const subscribers = new Set();

function broadcast(msg, except) {
  if (subscribers.size === 0 || (subscribers.size === 1 && subscribers.has(except)))
    return;
  const text = JSON.stringify(msg);
  for (const ws of subscribers) if (ws !== except) ws.send(text);
}

function sendError(ws, code, message, ref) {
  const m = { type: "error", code, message, name };
  if (ref !== undefined) m.ref = ref;
  ws.send(JSON.stringify(m));
}

function applyOps(ops) {
  // Throws a JsonPatchError on a malformed or failing op.
  if (ops.length === 1) {
    // One op validates before it mutates: in place is all-or-nothing.
    state = jsonpatch.applyPatch(state, ops, true, true).newDocument;
  } else {
    state = jsonpatch.applyPatch(jsonpatch.deepClone(state), ops, true, true)
      .newDocument;
  }
}

function onMessage(ws, data) {
  let m;
  try {
    m = JSON.parse(data);
  } catch {
    return sendError(ws, "bad_message", "not JSON");
  }
  if (m === null || typeof m !== "object" || Array.isArray(m))
    return sendError(ws, "bad_message", "not an object");
  if (m.name !== undefined && m.name !== name)
    return sendError(ws, "unknown_state", `"${m.name}" is not a mirrored state`, m.ref);
  switch (m.type) {
    case "subscribe":
      subscribers.add(ws);
      if (state === undefined && m.init !== undefined) {
        state = m.init;
        version = 1;
        scheduleWrite();
      }
      ws.send(JSON.stringify(state === undefined
        ? { type: "snapshot", name, version: 0, exists: false }
        : { type: "snapshot", name, version, state }));
      return;
    case "unsubscribe":
      subscribers.delete(ws);
      return;
    case "patch":
    case "set": {
      let ops;
      if (m.type === "set") {
        if (state === undefined) {
          state = m.state;
          version = 1;
          ws.send(JSON.stringify({ type: "ack", name, ref: m.ref, version }));
          broadcast({ type: "snapshot", name, version, state }, ws);
          scheduleWrite();
          return;
        }
        ops = jsonpatch.compare(state, m.state);
      } else {
        ops = m.ops;
        if (!Array.isArray(ops))
          return sendError(ws, "invalid_patch", "ops is not an array", m.ref);
        if (state === undefined)
          return sendError(ws, "conflict", "state does not exist", m.ref);
      }
      if (ops.length > 0) {
        try {
          applyOps(ops);
        } catch (e) {
          const code = e.name === "OPERATION_PATH_UNRESOLVABLE" ||
            e.name === "OPERATION_VALUE_OUT_OF_BOUNDS" ||
            e.name === "OPERATION_FROM_UNRESOLVABLE" || e.name === "TEST_OPERATION_FAILED"
            ? "conflict" : "invalid_patch";
          sendError(ws, code, e.message.split("\n")[0], m.ref);
          if (code === "conflict")
            ws.send(JSON.stringify({ type: "snapshot", name, version, state }));
          return;
        }
        version++;
        broadcast({ type: "patch", name, version, ops, origin: `client:${ws.id}` }, ws);
        scheduleWrite();
      }
      ws.send(JSON.stringify({ type: "ack", name, ref: m.ref, version }));
      return;
    }
    default:
      return sendError(ws, "bad_message", "unknown type", m.ref);
  }
}

const server = http.createServer((req, res) => {
  if (req.url === "/_mirrorstate/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, session, server: "node-reference" }));
    return;
  }
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({
  server,
  path: "/_mirrorstate/ws",
  maxPayload: 32 * 1024 * 1024,
  handleProtocols: (protocols) => (protocols.has("mirrorstate.v1") ? "mirrorstate.v1" : false),
});
wss.on("connection", (ws) => {
  ws.id = `c${++nextClient}`;
  ws.on("message", (data) => onMessage(ws, data));
  ws.on("close", () => subscribers.delete(ws));
  ws.on("error", () => {});
  ws.send(JSON.stringify({
    type: "hello", protocol: 1, server: "node-reference", session,
    client: ws.id, states: [name],
  }));
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/_mirrorstate/\n`);
});

function stop() {
  if (writeQueued) writeNow();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
