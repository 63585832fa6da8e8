// Left pane: the mirrored states (file, version, file status) and the
// connected clients.

import { h, clear, ago, baseName, ltr } from './util.js';

const STATUS_TEXT = {
  ok: 'file holds valid JSON',
  invalid: 'file holds invalid JSON: not being overwritten until fixed',
  removed: 'file deleted: the state lives on in memory and is written on the next change',
  absent: 'no file and no state yet',
  write_failed: 'the server could not save the file; it keeps retrying',
  unknown: 'status not known yet',
};

export function renderStates(list, app) {
  clear(list);
  const names = [...app.states.keys()].sort();
  if (!names.length) {
    list.append(h('li.empty', { text: app.connected ? 'No states are mirrored.' : 'Not connected.' }));
    return;
  }
  for (const name of names) {
    const st = app.states.get(name);
    const status = st.status || 'unknown';
    const li = h(`li.state${name === app.selected ? '.selected' : ''}`, {
      tabIndex: 0,
      role: 'option',
      'aria-selected': String(name === app.selected),
      dataset: { name, status },
      title: `${st.file || name}\n${STATUS_TEXT[status] || status}`,
      onclick: () => app.select(name),
      onkeydown: (e) => { if (e.key === 'Enter') app.select(name); },
    },
    h('div.st-line', null,
      h(`span.dot.s-${status}`),
      h('span.st-name', { text: name }),
      h('span.st-ver', { text: st.exists === false && !st.version ? '—' : `v${st.version ?? '?'}` })),
    h('div.st-file', null,
      h('span.st-path', { text: st.file ? ltr(st.file) : '(no file)' }),
      status !== 'ok' ? h(`span.st-status.s-${status}`, { text: status.replace('_', ' ') }) : null));
    list.append(li);
  }
}

export function renderClients(list, countEl, app) {
  clear(list);
  const clients = app.clients || [];
  countEl.textContent = String(clients.length);
  if (!clients.length) {
    list.append(h('li.empty', { text: 'No clients connected.' }));
    return;
  }
  const order = { app: 0, panel: 1, cli: 2 };
  const sorted = [...clients].sort((a, b) => (order[a.role] ?? 3) - (order[b.role] ?? 3) || String(a.since).localeCompare(String(b.since)));
  for (const c of sorted) {
    const me = c.id === app.clientId;
    const page = c.page || c.origin || '';
    const errors = (app.pageErrors || []).filter((e) => e.client === c.id).length;
    list.append(h('li.client', { dataset: { id: c.id, role: c.role || 'app' } },
      h('div.cl-line', null,
        h(`span.role.r-${c.role || 'app'}`, { text: c.role || 'app' }),
        h('span.cl-id', { text: c.id }),
        me ? h('span.me', { text: 'this panel' }) : null,
        errors ? h('span.cl-errors', { text: `${errors} error${errors === 1 ? '' : 's'}`, title: 'page errors this client reported (see the log)' }) : null,
        h('span.grow'),
        h('span.cl-since', { text: ago(c.since), title: c.since ? `connected ${new Date(c.since).toLocaleString()}` : '' })),
      h('div.cl-page', { title: [c.page && `page ${c.page}`, c.origin && `origin ${c.origin}`, c.address && `address ${c.address}`].filter(Boolean).join('\n') },
        page ? h('span', { text: page }) : h('span.muted', { text: c.address ? `no page (${c.address})` : 'no page' })),
      c.subscriptions && c.subscriptions.length
        ? h('div.cl-subs', null, c.subscriptions.map((s) => h('span.sub', { text: s })))
        : null));
  }
}

export function fileLabel(st) {
  return st && st.file ? baseName(st.file) : '';
}
