// A counter on the React hooks, under StrictMode, for the browser tests.
// Built by tests/e2e/client.test.mjs with the React example's Vite. Query:
//   mode=suspense   (default) useMirrorState suspends until the value is known
//   mode=nosuspense renders `initial` meanwhile and takes clicks before it
//   mode=provider   <MirrorProvider url=...> opens the connection
//   mode=selector   two components, each on its own slice (useMirrorSelector)
//   auto            connect() with no URL (the page's origin), as with the
//                   Vite plugin; otherwise the default mirror gets the URL
// Every render of the counter pushes the count it shows to window.renders.
import { StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { connect, setDefaultMirror } from 'mirrorstate-client';
import { MirrorProvider, useMirrorError, useMirrorSelector, useMirrorState } from 'mirrorstate-client/react';

const q = new URLSearchParams(location.search);
const mode = q.get('mode') || 'suspense';
const STATE = q.get('state') || 'app';
window.renders = [];
window.sliceRenders = { count: 0, other: 0 };

function Counter({ suspense = true }) {
  const [state, update, meta] = useMirrorState(STATE, { count: 0 }, { suspense });
  window.renders.push(state ? state.count : undefined);
  window.page = { app: meta.handle };
  return (
    <div>
      <output data-testid="count">{state ? String(state.count) : ''}</output>
      <button type="button" data-testid="inc" onClick={() => update((d) => { d.count++; })}>+</button>
      <button type="button" data-testid="refused" onClick={() => update((d) => { d.note = 'nul\u0000'; })}>refused</button>
    </div>
  );
}

function Status() {
  const [, , meta] = useMirrorState(STATE, undefined, { suspense: false });
  const err = useMirrorError(STATE);
  return (
    <p>
      <span data-testid="status" data-status={meta.status}>{meta.status}</span>
      <span data-testid="error" data-code={err ? err.code : ''}>{err ? `${err.code}: ${err.message}` : ''}</span>
    </p>
  );
}

function CountSlice() {
  const count = useMirrorSelector(STATE, (s) => s.count);
  window.sliceRenders.count++;
  return <output data-testid="slice-count">{String(count)}</output>;
}

function OtherSlice() {
  const other = useMirrorSelector(STATE, (s) => s.other);
  window.sliceRenders.other++;
  return <output data-testid="slice-other">{String(other)}</output>;
}

function App() {
  if (mode === 'selector') {
    return (
      <Suspense fallback={<p data-testid="loading">loading</p>}>
        <CountSlice />
        <OtherSlice />
        <Counter />
      </Suspense>
    );
  }
  return (
    <>
      <Suspense fallback={<p data-testid="loading">loading</p>}>
        <Counter suspense={mode !== 'nosuspense'} />
      </Suspense>
      <Status />
    </>
  );
}

const ws = `${location.origin.replace(/^http/, 'ws')}/_mirrorstate/ws`;
if (mode !== 'provider' && !q.has('auto')) setDefaultMirror(connect({ url: ws }));
createRoot(document.getElementById('root')).render(
  <StrictMode>
    {mode === 'provider' ? <MirrorProvider url={ws}><App /></MirrorProvider> : <App />}
  </StrictMode>,
);
