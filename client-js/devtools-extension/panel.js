// Hosts the panel served by a MirrorState server in an iframe. The server
// URL is remembered in chrome.storage.local (localStorage as a fallback).

const DEFAULT_URL = 'http://localhost:7420/_mirrorstate/';
const KEY = 'mirrorstateUrl';

const $ = (id) => document.getElementById(id);
const input = $('url');
const frame = $('frame');
const note = $('note');

const storage = {
  async get() {
    try {
      const r = await chrome.storage.local.get(KEY);
      if (r && typeof r[KEY] === 'string') return r[KEY];
    } catch { /* not available: fall back */ }
    try {
      return localStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  async set(url) {
    try {
      await chrome.storage.local.set({ [KEY]: url });
    } catch {
      try {
        localStorage.setItem(KEY, url);
      } catch { /* not remembered */ }
    }
  },
};

// Accepts "vm-1:7420", "http://vm-1:7420" or a full panel URL.
function normalize(text) {
  let s = text.trim();
  if (!s) return DEFAULT_URL;
  if (!/^https?:\/\//i.test(s)) s = `http://${s}`;
  const u = new URL(s);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('http or https only');
  if (!u.pathname.startsWith('/_mirrorstate')) u.pathname = '/_mirrorstate/';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.toString();
}

// A no-cors request resolves (opaque) when something answers, and rejects
// when nothing listens, without needing host permissions.
async function reachable(url) {
  const u = new URL('healthz', url);
  u.search = new URL(url).search;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 4000);
  try {
    await fetch(u, { mode: 'no-cors', cache: 'no-store', signal: ctl.signal });
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function open(url) {
  input.value = url;
  note.textContent = 'connecting…';
  if (!(await reachable(url))) {
    note.textContent = '';
    $('unreachable-url').textContent = url;
    $('unreachable').hidden = false;
    frame.hidden = true;
    frame.removeAttribute('src');
    return;
  }
  $('unreachable').hidden = true;
  frame.hidden = false;
  frame.src = url;
  note.textContent = '';
}

$('bar').addEventListener('submit', async (e) => {
  e.preventDefault();
  let url;
  try {
    url = normalize(input.value);
  } catch (err) {
    note.textContent = `Not a URL: ${err.message}`;
    return;
  }
  await storage.set(url);
  open(url);
});

$('reload').addEventListener('click', () => open(normalize(input.value)));
$('retry').addEventListener('click', () => open(normalize(input.value)));

$('from-page').addEventListener('click', () => {
  chrome.devtools.inspectedWindow.eval('location.hostname', (host, err) => {
    if (err || !host) {
      note.textContent = 'The inspected page has no host name.';
      return;
    }
    const h = host.includes(':') ? `[${host}]` : host; // IPv6 literal
    input.value = `http://${h}:7420/_mirrorstate/`;
    note.textContent = 'Press Open to use it.';
    input.focus();
  });
});

storage.get().then((saved) => open(saved ? normalize(saved) : DEFAULT_URL));
