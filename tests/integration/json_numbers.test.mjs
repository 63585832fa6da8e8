// Runs thousands of random doubles through the C printer (build/json_tool)
// and compares with JSON.stringify. Build first: cmake --build build --target json_tool
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

const tool = process.env.JSON_TOOL
  ? path.resolve(process.env.JSON_TOOL)
  : fileURLToPath(new URL("../../build/json_tool", import.meta.url));

function randomDoubles(n) {
  const bytes = randomBytes(8 * n);
  const all = new Float64Array(bytes.buffer, bytes.byteOffset, n);
  const out = [...all].filter(Number.isFinite);
  for (let i = 0; i < n; i++) {
    out.push(Math.round((Math.random() - 0.5) * 10 ** (i % 12)) / 10 ** (i % 9));
    out.push(Math.random() * 10 ** ((i % 60) - 30));
    out.push(2 ** ((i % 2098) - 1074));
  }
  return out;
}

test("random doubles print as JSON.stringify prints them", () => {
  const values = randomDoubles(5000);
  const text = JSON.stringify(values);
  const pretty = execFileSync(tool, [], { input: text, maxBuffer: 1 << 28 }).toString();
  assert.equal(pretty, JSON.stringify(values, null, 2) + "\n");
  const compact = execFileSync(tool, ["-c"], { input: text, maxBuffer: 1 << 28 }).toString();
  assert.equal(compact, text + "\n");
});

test("parse errors carry JSON.parse's position", () => {
  const cases = ['{"a":1 "b":2}', "[1,2,]", '{"a":1,}', '{"a":"xx', "{a:1}", '{"a":1', "[1,2", "01", "1.", "[1]x", '"\\x"', '{"a" 1}'];
  for (const text of cases) {
    let position;
    try {
      JSON.parse(text);
    } catch (e) {
      // Node gives no position for "Unexpected token"; end of input is at the end.
      position = /at position (\d+)/.exec(e.message)?.[1] ??
        (/end of JSON input/.test(e.message) ? String(text.length) : undefined);
    }
    if (position === undefined) continue;
    let stderr = "";
    try {
      execFileSync(tool, [], { input: text, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      stderr = e.stderr.toString();
    }
    const [, line, column] = /^(\d+):(\d+):/.exec(stderr) ?? [];
    assert.equal(line, "1", text);
    assert.equal(Number(column) - 1, Number(position), `${text}: ${stderr}`);
  }
});
