// A todo list whose whole state is the JSON file the server mirrors.
// No build step: the client library comes from the MirrorState server.
import { connect } from '/_mirrorstate/client.js';

const mirror = connect();
// `--file examples/todo/state.json` mirrors the state named "state";
// ?state=NAME picks another one (e.g. under `--dir`).
const name = new URLSearchParams(location.search).get('state') || 'state';
const todo = mirror.state(name, { initial: { title: 'Todos', filter: 'all', items: [] } });
window.todoApp = { mirror, todo };

const $ = (sel) => document.querySelector(sel);
const list = $('#list');
const statusEl = $('#status');
const banner = $('#banner');

const STATUS_TEXT = { open: 'Live', connecting: 'Connecting…', closed: 'Offline — retrying' };

function showStatus() {
  statusEl.dataset.status = mirror.status;
  statusEl.querySelector('.label').textContent = STATUS_TEXT[mirror.status] || mirror.status;
}

function showError() {
  const err = todo.error;
  banner.replaceChildren();
  banner.hidden = !err;
  if (!err) return;
  banner.dataset.code = err.code;
  const strong = document.createElement('strong');
  const p = document.createElement('p');
  if (err.code === 'file_invalid') {
    strong.textContent = `The state file holds invalid JSON (line ${err.line}, column ${err.column})`;
    p.textContent = `${String(err.message || '').replace(/\.$/, '')}. Changes made here are kept and saved once the file is fixed.`;
    banner.append(strong, p);
    if (err.text !== undefined) {
      const pre = document.createElement('pre');
      pre.textContent = `${String(err.line).padStart(4)} | ${err.text}`;
      banner.append(pre);
    }
  } else if (err.code === 'file_removed') {
    strong.textContent = 'The state file was deleted';
    p.textContent = 'The list lives on in memory; the next change writes the file again.';
    banner.append(strong, p);
  } else {
    strong.textContent = `Error: ${err.code}`;
    p.textContent = err.message || '';
    banner.append(strong, p);
  }
}

const items = (s) => (s && Array.isArray(s.items) ? s.items : []);

function render(s) {
  const all = items(s);
  const filter = (s && s.filter) || 'all';
  document.title = `${(s && s.title) || 'Todos'} · MirrorState`;
  $('#title').textContent = (s && s.title) || 'Todos';
  const shown = all.filter((t) => filter === 'all' || (filter === 'done' ? t.done : !t.done));
  list.replaceChildren(...shown.map((t) => {
    const li = document.createElement('li');
    li.className = t.done ? 'item done' : 'item';
    li.dataset.id = t.id;
    li.dataset.testid = 'item';
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = Boolean(t.done);
    box.addEventListener('change', () => toggle(t.id));
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = t.text;
    label.append(box, text);
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'delete';
    del.title = 'Delete';
    del.setAttribute('aria-label', `Delete ${t.text}`);
    del.textContent = '×';
    del.addEventListener('click', () => remove(t.id));
    li.append(label, del);
    return li;
  }));
  $('#empty').hidden = shown.length > 0;
  const left = all.filter((t) => !t.done).length;
  $('#left').textContent = `${left} ${left === 1 ? 'item' : 'items'} left`;
  for (const b of document.querySelectorAll('[data-filter]')) {
    b.setAttribute('aria-pressed', String(b.dataset.filter === filter));
  }
  $('#clear').hidden = !all.some((t) => t.done);
}

// Every change goes through update(): a mutable draft turned into JSON Patch
// ops, applied here at once and sent to the server.
function add(text) {
  todo.update((d) => {
    if (!Array.isArray(d.items)) d.items = [];
    const id = d.items.reduce((m, t) => Math.max(m, Number(t.id) || 0), 0) + 1;
    d.items.push({ id, text, done: false });
  });
}

function toggle(id) {
  todo.update((d) => {
    const t = d.items.find((x) => x.id === id);
    if (t) t.done = !t.done;
  });
}

function remove(id) {
  todo.update((d) => {
    const i = d.items.findIndex((x) => x.id === id);
    if (i >= 0) d.items.splice(i, 1);
  });
}

$('#add').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('#new');
  const text = input.value.trim();
  if (text) add(text);
  input.value = '';
  input.focus();
});

for (const b of document.querySelectorAll('[data-filter]')) {
  b.addEventListener('click', () => todo.update((d) => { d.filter = b.dataset.filter; }));
}

$('#clear').addEventListener('click', () => todo.update((d) => {
  // One small "remove" op per done item, from the end so indices hold.
  for (let i = d.items.length - 1; i >= 0; i--) if (d.items[i].done) d.items.splice(i, 1);
}));

mirror.on('status', showStatus);
todo.on('error', showError);
showStatus();
showError();
// The first render shows the file's value, not `initial`.
await todo.ready;
render(todo.get());
todo.subscribe(render);
