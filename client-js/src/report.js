// The page's errors, reported to the server so the agent learns the page
// broke: uncaught errors, unhandled promise rejections and console.error.
// One set of page-wide hooks, shared by every Mirror that reports; each
// Mirror rate-limits and sends (core.js, _pageError).

const mirrors = new Set();
let hooks = null;
let busy = false;

function text(v) {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    const s = JSON.stringify(v);
    if (s !== undefined) return s;
  } catch { /* cyclic */ }
  return String(v);
}

const stackOf = (v) => (v && typeof v.stack === 'string' ? v.stack : undefined);

function dispatch(kind, message, stack) {
  // An error raised while reporting one (a console.error in a listener) is
  // not reported again.
  if (busy) return;
  busy = true;
  try {
    for (const m of mirrors) {
      try { m._pageError(kind, message, stack); } catch { /* never break the page */ }
    }
  } finally {
    busy = false;
  }
}

function onError(ev) {
  const e = ev && ev.error;
  dispatch('error', (ev && ev.message) || (e ? text(e) : 'error'), stackOf(e));
}

function onRejection(ev) {
  const r = ev && ev.reason;
  dispatch('unhandledrejection', r === undefined ? 'undefined' : text(r), stackOf(r));
}

/** Starts reporting the page's errors to `mirror`; returns the function
 * that stops. Does nothing outside a browser-like global. */
export function watchPageErrors(mirror) {
  const g = globalThis;
  if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') return null;
  mirrors.add(mirror);
  if (!hooks) {
    g.addEventListener('error', onError);
    g.addEventListener('unhandledrejection', onRejection);
    const original = g.console && g.console.error;
    let wrapped = null;
    if (typeof original === 'function') {
      wrapped = function consoleError(...args) {
        try {
          const err = args.find((a) => a instanceof Error);
          dispatch('console', args.map(text).join(' '), stackOf(err));
        } catch { /* never break console.error */ }
        return original.apply(this, args);
      };
      g.console.error = wrapped;
    }
    hooks = { original, wrapped };
  }
  return () => {
    mirrors.delete(mirror);
    if (mirrors.size || !hooks) return;
    g.removeEventListener('error', onError);
    g.removeEventListener('unhandledrejection', onRejection);
    if (hooks.wrapped && g.console.error === hooks.wrapped) g.console.error = hooks.original;
    hooks = null;
  };
}
