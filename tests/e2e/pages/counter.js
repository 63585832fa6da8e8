// A counter on the MirrorState client, for the browser tests. Query:
//   state=NAME    the state (default "app")
//   mode=early    renders and takes clicks before the file's value is known
//   mode=await    awaits state.ready before the first render (the documented
//                 way for a page without a build step); the default uses boot
//                 data when the page has it, else awaits
//   url=WS        connect({ url }) instead of the default
//   token=T       connect({ token })
// Every render's value is kept in window.renders.
import { connect } from '/_mirrorstate/client.js';

const q = new URLSearchParams(location.search);
const mode = q.get('mode') || 'default';
const options = {};
if (q.get('url')) options.url = q.get('url');
// ?token= opens the page itself (--static needs it once the server has one);
// ?clientToken= overrides what the client connects with.
if (q.get('token')) options.token = q.get('token');
if (q.has('clientToken')) options.token = q.get('clientToken');
const mirror = connect(options);
const app = mirror.state(q.get('state') || 'app', { initial: { count: 0 } });
window.renders = [];
window.page = { mirror, app };

const $ = (id) => document.getElementById(id);

function render(value) {
  window.renders.push(value ? value.count : undefined);
  $('count').textContent = value ? String(value.count) : '';
}

function showStatus() {
  $('status').textContent = app.status;
  $('status').dataset.status = app.status;
  const err = app.error;
  $('error').textContent = err ? `${err.code}: ${err.message}` : '';
  $('error').dataset.code = err ? err.code : '';
}

$('inc').addEventListener('click', () => app.update((d) => { d.count++; }));
// A string the server refuses (U+0000): the change is rolled back.
$('refused').addEventListener('click', () => app.update((d) => { d.note = 'nul\u0000'; }));
app.on('status', showStatus);
app.on('error', showStatus);
showStatus();

if (mode === 'early' || (mode === 'default' && app.loaded)) {
  render(app.get());
} else {
  await app.ready;
  render(app.get());
}
app.subscribe(render);
