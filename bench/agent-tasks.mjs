// The agent's seven tasks, run as an agent would run them with nothing but
// `mirrorstate agent-md` as its instructions, against the todo example open
// in Chromium as the user's page. Prints, per task, the commands, the bytes
// they printed on stdout (what an agent reads) and whether the guide's
// recipe worked the first time.
//
//   node bench/agent-tasks.mjs [--bin build/mirrorstate]
//
// Not a test: it measures. The session's assertions decide "first try".

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pretty, readJSON, removeDir, runCli, startServer, stopServer, tempDir, until } from "../tests/lib/index.mjs";
import { launchBrowser } from "../tests/lib/browser.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const i = argv.indexOf("--bin");
const BIN = path.resolve(root, i >= 0 ? argv[i + 1] : process.env.MIRRORSTATE_BIN || "build/mirrorstate");
const STATIC = path.join(root, "examples", "todo");

const dir = tempDir("mirrorstate-tasks-");
const bin = tempDir("mirrorstate-bin-");
const xdg = tempDir("mirrorstate-xdg-");
fs.chmodSync(xdg, 0o700);
fs.symlinkSync(BIN, path.join(bin, "mirrorstate"));
const env = { PATH: `${bin}:${process.env.PATH}`, MIRRORSTATE_URL: "", MIRRORSTATE_TOKEN: "", XDG_RUNTIME_DIR: xdg };
fs.mkdirSync(path.join(dir, "app"));
const file = path.join(dir, "app", "todo.json");
fs.copyFileSync(path.join(STATIC, "state.json"), file);

const rows = [];
let task = null;
function begin(name) {
  task = { name, cmds: [], bytes: 0, ok: true, notes: [] };
  rows.push(task);
}
async function run(cmd) {
  const r = await runCli(["-c", cmd], { bin: "/bin/sh", cwd: dir, env, timeout: 120000 });
  task.cmds.push(`${cmd.length > 70 ? cmd.slice(0, 67) + "..." : cmd} (exit ${r.code})`);
  task.bytes += Buffer.byteLength(r.stdout);
  return r;
}
function edit(change, note) {
  const v = readJSON(file);
  change(v);
  fs.writeFileSync(file, pretty(v));
  task.cmds.push(`(edit app/todo.json: ${note})`);
  return v;
}
function check(cond, what) {
  if (!cond) {
    task.ok = false;
    task.notes.push(what);
  }
}

const server = await startServer({ cwd: dir, files: ["app/todo.json"], args: ["--log", "events.log", "--static", STATIC], env: { XDG_RUNTIME_DIR: xdg } });
const browser = await launchBrowser();
const page = await browser.context.newPage();
await page.goto(`${server.base}?state=todo`, { waitUntil: "domcontentloaded" });
await page.locator("[data-testid=status][data-status=open]").waitFor();
const texts = () => page.locator("li[data-testid=item] .text").allTextContents();
const checked = (id) => page.locator(`li[data-id="${id}"] input[type=checkbox]`).isChecked();

try {
  begin("0. read the guide");
  let r = await run("mirrorstate agent-md");
  check(r.code === 0 && /\| `todo` \| `app\/todo\.json` \|/.test(r.stdout), "agent-md names the state and its file");

  begin("1. read the list");
  r = await run("mirrorstate get todo");
  const start = JSON.parse(r.stdout);
  check(r.code === 0 && start.items.length === 3, "get prints the list");

  begin("2. add three");
  r = await run(`mirrorstate patch todo '[{"op": "add", "path": "/items/-", "value": {"id": 4, "text": "Buy bread", "done": false}}, {"op": "add", "path": "/items/-", "value": {"id": 5, "text": "Water the plants", "done": false}}, {"op": "add", "path": "/items/-", "value": {"id": 6, "text": "Pay the rent", "done": false}}]'`);
  check(r.code === 0, "patch acked");
  const added = JSON.parse(r.stdout).version;
  r = await run("mirrorstate sync todo --pages");
  check(r.code === 0 && JSON.parse(r.stdout).pages.confirmed === 1, "the page confirmed");
  check((await texts()).includes("Pay the rent"), "the page shows them");

  begin("3. mark one done, confirm the page");
  edit((v) => { v.items.find((t) => t.id === 4).done = true; }, "items[id=4].done = true");
  r = await run("mirrorstate sync todo --pages");
  const s3 = JSON.parse(r.stdout);
  check(r.code === 0 && s3.status === "applied" && s3.pages.confirmed === s3.pages.total, "applied and confirmed");
  check(await checked(4), "the page shows it done");
  const doneVersion = s3.version;

  begin("4. find what the user did");
  await page.locator('li[data-id="3"] input[type=checkbox]').check();
  await page.locator('li[data-id="2"] button.delete').click();
  await until(() => readJSON(file).items.length === 5, "the user's clicks in the file");
  r = await run(`mirrorstate watch todo --origin client --once --since ${doneVersion} --timeout 600`);
  const seen = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const said = seen.flatMap((c) => c.desc || []);
  check(r.code === 0 && said.includes("items[id=3].done: false \u2192 true") && said.some((d) => d.startsWith("items[id=2] removed")), `desc names the items: ${JSON.stringify(said)}`);
  task.notes.push(said.join("; "));

  begin("5. recover from invalid JSON");
  const good = readJSON(file);
  const broken = pretty({ ...good, title: "Weekend" }).replace('"title": "Weekend",', '"title": "Weekend"');
  fs.writeFileSync(file, broken);
  task.cmds.push("(edit app/todo.json: title, a comma missing)");
  r = await run("mirrorstate sync todo --pages");
  check(r.code === 1 && /app\/todo\.json:3:3: .*not valid JSON/.test(r.stderr), "sync says where, exit 1");
  task.notes.push(r.stderr.trim().split("\n")[0].slice(0, 120));
  fs.writeFileSync(file, pretty({ ...good, title: "Weekend" }));
  task.cmds.push("(edit app/todo.json: the comma put back)");
  r = await run("mirrorstate sync todo --pages");
  check(r.code === 0 && JSON.parse(r.stdout).status === "applied", "applied after the fix");
  check((await page.locator("#title").textContent()) === "Weekend", "the page shows it");

  begin("6. undo your own change while the user works");
  await page.locator("#new").fill("Call mum");
  await page.locator("#new").press("Enter");
  await until(() => readJSON(file).items.some((t) => t.text === "Call mum"), "the user's item in the file");
  r = await run(`mirrorstate undo todo ${doneVersion}`);
  check(r.code === 0 && JSON.parse(r.stdout).undone[0] === doneVersion, "undone");
  r = await run("mirrorstate sync todo --pages");
  check(r.code === 0, "confirmed");
  check(!(await checked(4)) && (await texts()).includes("Call mum") && (await checked(3)), "own change gone, the user's kept");

  begin("7. edit while the user clicks");
  const clicks = (async () => {
    for (const id of [1, 4, 5]) await page.locator(`li[data-id="${id}"] input[type=checkbox]`).click();
  })();
  edit((v) => { v.items.find((t) => t.id === 6).text = "Pay the rent (by Friday)"; }, "items[id=6].text");
  await clicks;
  r = await run("mirrorstate sync todo --pages");
  check(r.code === 0, "sync exit 0");
  await until(async () => (await checked(1)) && (await checked(4)) && (await checked(5)), "the page keeps the clicks");
  const end = readJSON(file);
  check(end.items.find((t) => t.id === 6).text === "Pay the rent (by Friday)", "the agent's edit is in");
  check([1, 4, 5].every((id) => end.items.find((t) => t.id === id).done), "the user's clicks are in");
  check((await texts()).includes("Pay the rent (by Friday)"), "the page shows the edit");
} finally {
  await browser.close();
  await stopServer(server);
  for (const d of [dir, bin, xdg]) removeDir(d);
}

console.log("| task | commands | bytes read | first try |");
console.log("| --- | --- | --- | --- |");
for (const t of rows)
  console.log(`| ${t.name} | ${t.cmds.join("<br>")} | ${t.bytes} | ${t.ok ? "yes" : "no"}${t.notes.length ? ` (${t.notes.join("; ")})` : ""} |`);
process.exit(rows.every((t) => t.ok) ? 0 : 1);
