// A minimal event emitter, and the way the client reports an exception
// thrown by application code it called (a listener, a recipe re-run): as an
// uncaught error of the page, without stopping its own work.

export class Emitter {
  constructor() { this._handlers = new Map(); }

  /** Adds a listener; returns the function that removes it. */
  on(type, fn) {
    let set = this._handlers.get(type);
    if (!set) this._handlers.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) { this._handlers.get(type)?.delete(fn); }

  _emit(type, arg) {
    const set = this._handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(arg); } catch (e) { reportError(e); }
    }
  }
}

export function reportError(e) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else setTimeout(() => { throw e; });
}
