// Banners above the panes: a state's file holds invalid JSON (where, and
// that it is not overwritten until fixed), was removed, or cannot be saved.

import { h, clear } from './util.js';

export function renderBanners(box, app) {
  clear(box);
  for (const st of [...app.states.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (st.status === 'invalid' && st.fileError) box.append(invalidBanner(st, app));
    else if (st.status === 'removed') {
      box.append(h('div.banner.warn', { dataset: { name: st.name, kind: 'removed' } },
        h('strong', { text: `${st.name}: file deleted. ` }),
        h('span', { text: `${st.file || 'The file'} was removed while serving. The state lives on in memory and the file is written again on the next change.` })));
    } else if (st.status === 'write_failed') {
      box.append(h('div.banner.error', { dataset: { name: st.name, kind: 'write_failed' } },
        h('strong', { text: `${st.name}: cannot save the file. ` }),
        h('span', { text: `${st.writeError || 'The server could not write'} ${st.file || ''}. It keeps retrying; changes are kept in memory.` })));
    }
  }
  box.hidden = !box.firstChild;
}

function invalidBanner(st, app) {
  const e = st.fileError;
  const file = e.file || st.file || st.name;
  const text = typeof e.text === 'string' ? e.text : null;
  const col = Number(e.column) || 1;
  const gutter = e.line ? String(e.line) : '';
  let excerpt = null;
  if (text !== null) {
    // The caret sits under the column; tabs keep their width by reusing
    // the line's own whitespace before the caret.
    const lead = text.slice(0, col - 1).replace(/[^\t]/g, ' ');
    excerpt = h('pre.excerpt', null,
      h('span.gutter', { text: `${gutter.padStart(4)} │ ` }), h('span.code', { text: text || ' ' }), '\n',
      h('span.gutter', { text: `${' '.repeat(4)} │ ` }), h('span.caret', { text: `${lead}^` }));
  }
  return h('div.banner.error', { role: 'alert', dataset: { name: st.name, kind: 'invalid' } },
    h('div.b-head', null,
      h('span.b-icon', { text: '!' }),
      h('strong', { text: `Invalid JSON in ${file}` }),
      e.line ? h('span.b-pos', { text: ` line ${e.line}, column ${e.column}` }) : null,
      h('span.grow'),
      app.states.size > 1 ? h('button.link', { text: `show ${st.name}`, onclick: () => app.select(st.name) }) : null),
    h('div.b-msg', { text: (e.message || 'The file does not parse.').replace(/ at line \d+, column \d+.*$/s, '') }),
    excerpt,
    h('div.b-note', { text: `MirrorState is not overwriting this file until it parses again, so the text in it is never lost. The tree shows the state in memory (v${st.version}); changes from the app are kept there and saved once the file is fixed.` }));
}
