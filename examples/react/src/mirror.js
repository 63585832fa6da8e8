// Where MirrorState is. In development the app is served by Vite (port 3000)
// and MirrorState listens on port 7420 of the same host; a production build
// served by `mirrorstate serve --static dist` talks to its own origin.
// VITE_MIRRORSTATE_URL (e.g. ws://vm-1:7420/_mirrorstate/ws) overrides both.
import { connect } from 'mirrorstate-client';

function mirrorUrl() {
  const env = import.meta.env;
  if (env.VITE_MIRRORSTATE_URL) return env.VITE_MIRRORSTATE_URL;
  const ws = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (env.DEV) return `${ws}//${location.hostname}:${env.VITE_MIRRORSTATE_PORT || 7420}/_mirrorstate/ws`;
  return `${ws}//${location.host}/_mirrorstate/ws`;
}

export const mirror = connect({ url: mirrorUrl() });

// The name MirrorState gives examples/react/state.json.
export const STATE = 'state';
export const INITIAL = { count: 0, todos: [] };

// Render counts per component, read by the end-to-end test (and handy when
// checking that one change causes one render).
window.renderCounts = window.renderCounts || {};
export function countRender(name) {
  window.renderCounts[name] = (window.renderCounts[name] || 0) + 1;
}
