// One named state: the server's confirmed value, this client's changes not
// yet confirmed, and what the page sees (`confirmed + changes`).
//
// Changes are kept as steps, in order:
// - a transaction, update(fn): kept as the function. Whenever the state it
//   ran on is replaced by a newer one (a change by someone else, a conflict,
//   a reconnect, the first snapshot), fn runs again on the newer state, so
//   "+1" stays "+1" (Replicache-style rebasing). Sent with "strict": the
//   server refuses it if someone else changed an overlapping path since the
//   version it was computed on; the client then re-runs fn on the fresh
//   snapshot and sends again.
// - an absolute change, set(value) / patch(ops): kept as ops, applied as
//   they are wherever they still apply.
//
// At most one message per state is in flight; the steps made meanwhile wait
// and go out together once it is answered, computed on the newest state.

import { applyOp, applyPatch, deepEqual, diff, getPointer, validateOp, PatchError } from './patch.js';
import { produce, toJSONValue } from './draft.js';
import { Emitter, reportError } from './emitter.js';

// Errors that describe the state's file rather than one change.
const FILE_ERRORS = new Set(['file_invalid', 'file_removed', 'write_failed']);
// A transaction refused this many times in a row as a conflict is dropped.
const MAX_RETRIES = 50;

const hasTest = (ops) => ops.some((op) => op.op === 'test');

// Applies ops atomically if they apply; otherwise every op that still does.
// Returns [newValue, appliedOps].
function applyBestEffort(value, ops) {
  try {
    return [applyPatch(value, ops), ops];
  } catch {
    const kept = [];
    for (const op of ops) {
      try {
        value = applyOp(value, op);
        kept.push(op);
      } catch { /* no longer applies: left out */ }
    }
    return [value, kept];
  }
}

const countEqual = (arr, v) => (Array.isArray(arr) ? arr.filter((x) => deepEqual(x, v)).length : 0);

// Whether a change in flight when the connection dropped is already part of
// the fresh snapshot (the server applied it but its ack was lost). Ops that
// set a value are there if applying them changes nothing; an append is
// there if the array holds more equal elements than it did before.
function alreadyApplied(snapshot, before, ops) {
  for (const op of ops) {
    if (op.op === 'add' && op.path.endsWith('/-')) {
      const arr = op.path.slice(0, -2);
      if (countEqual(getPointer(snapshot, arr), op.value) <= countEqual(getPointer(before, arr), op.value)) return false;
      continue;
    }
    if (op.op === 'test') continue;
    try {
      if (!deepEqual(applyOp(snapshot, op), snapshot)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Whether two JSON Pointers overlap: equal, or one inside the other. */
export function overlaps(a, b) {
  return a === b || a.startsWith(b + '/') || b.startsWith(a + '/');
}

/** The paths a patch changes (what the server's strict check compares
 * against): `path` of every op but `test`, and `from` of `move`. */
export function changedPaths(ops) {
  const out = [];
  for (const op of ops) {
    if (op.op === 'test') continue;
    out.push(op.path);
    if (op.op === 'move') out.push(op.from);
  }
  return out;
}

/** The paths a patch touches: `path` and `from` of every op. */
export function touchedPaths(ops) {
  const out = [];
  for (const op of ops) {
    out.push(op.path);
    if (typeof op.from === 'string') out.push(op.from);
  }
  return out;
}

const anyOverlap = (a, b) => a.some((x) => b.some((y) => overlaps(x, y)));

/** One named state mirrored from the server. Get it with mirror.state(). */
export class State extends Emitter {
  constructor(mirror, name, options = {}) {
    super();
    this.name = name;
    this._mirror = mirror;
    this._hasInitial = options.initial !== undefined;
    this._initial = this._hasInitial ? toJSONValue(options.initial) : undefined;
    this._confirmed = undefined;
    this._version = 0;
    this._exists = false;
    this._loaded = false;    // the server's value is known (snapshot or boot data)
    this._synced = false;    // a snapshot arrived on the current connection
    this._awaiting = false;  // a snapshot is on its way (after a conflict or a gap)
    this._flight = null;     // { ref, strict, steps, ops, conn, doomed }
    this._steps = [];        // changes not sent yet, in order
    this._scheduled = false;
    this._value = this._initial;
    this._subs = new Set();
    this._settleWaiters = [];
    this._error = null;
    this._fatal = false;
    this._status = 'connecting';
    this._reported = null;   // the last version reported as applied
    this._readyDone = false;
    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
    // Bound so they can be handed around (React's useSyncExternalStore).
    this.get = this.get.bind(this);
    this.subscribe = this.subscribe.bind(this);
    this.set = this.set.bind(this);
    this.update = this.update.bind(this);
    this.patch = this.patch.bind(this);
    const boot = mirror._bootFor(name);
    if (boot) this._applyBoot(boot);
    this._status = this._computeStatus();
  }

  /** The current value: the server's state with this client's unconfirmed
   * changes applied. Before the value is known (see `ready`): `initial`.
   * Treat it as immutable. */
  get() { return this._value; }
  /** The last version confirmed by the server (0: none yet / absent). */
  get version() { return this._version; }
  /** Whether the state exists on the server. */
  get exists() { return this._exists; }
  /** Whether the server's value is known: a snapshot (or boot data) arrived. */
  get loaded() { return this._loaded; }
  /** Number of changes not yet confirmed by the server. */
  get pending() {
    return this._steps.length + (this._flight ? this._flight.steps.length : 0);
  }
  /** The current problem, or null (see the README's list). */
  get error() { return this._error || this._mirror._connError || null; }
  /** 'connecting' | 'live' | 'offline' | 'error'. */
  get status() { return this._status; }

  /** Calls fn(value) after every change of value; equal values do not
   * notify. Returns the unsubscribe function. */
  subscribe(fn) {
    const entry = (v) => fn(v);
    this._subs.add(entry);
    return () => this._subs.delete(entry);
  }

  /** A transaction: changes the value through a mutable draft
   * (`d => { d.count++ }`), or returns the new value (`v => v + 1`). Applied
   * at once when the value is known; re-run on the newer state whenever the
   * server moved on before confirming it. Before the value is known it waits
   * and runs on it. `fn` may run several times: keep it free of other side
   * effects. */
  update(fn) {
    if (typeof fn !== 'function') throw new TypeError('mirrorstate: update() takes a function; set(value) replaces the value');
    if (this._refuse('update')) return;
    if (!this._known()) return this._push({ fn, ops: [] });
    const { value, ops } = produce(this._value, fn);
    if (ops.length === 0) return undefined;
    return this._push({ fn, ops }, value);
  }

  /** Replaces the whole value (absolute: not re-run). Sent as the minimal
   * patch from the current value, so concurrent changes to other keys are
   * kept. */
  set(value) {
    if (this._refuse('set')) return;
    let v = toJSONValue(value);
    if (v === undefined) v = null;
    if (!this._loaded) return this._push({ set: v, ops: [] }, this._known() ? v : undefined);
    const ops = diff(this._value, v);
    if (ops.length === 0) return undefined;
    return this._push({ set: v, based: true, ops }, applyPatch(this._value, ops));
  }

  /** Applies raw JSON Patch ops (absolute: not re-run), e.g. `test` then
   * `replace` for a compare-and-set. Throws PatchError if they do not apply
   * to the current value. A change holding a `test` op is never split: if it
   * no longer applies it is dropped whole. */
  patch(ops) {
    if (!Array.isArray(ops)) throw new PatchError('invalid_patch', 'patch is not an array');
    if (this._refuse('patch')) return;
    const copy = ops.map((op, i) => {
      validateOp(op, i);
      return { ...op };
    });
    const step = { ops: copy, cas: hasTest(copy), based: this._loaded };
    if (!this._known()) return this._push(step);
    return this._push(step, applyPatch(this._value, copy));
  }

  /** Resolves once every change made so far is confirmed by the server, or
   * refused and dropped. */
  settled() {
    if (this.pending === 0 || this._mirror._closed) return Promise.resolve();
    return new Promise((resolve) => this._settleWaiters.push(resolve));
  }

  // --- internals -------------------------------------------------------

  _known() { return this._loaded || this._hasInitial; }

  // What the value is before this client's changes.
  _base() { return this._exists ? this._confirmed : this._initial; }

  _refuse(what) {
    const m = this._mirror;
    if (this._fatal && this._error && this._error.code === 'unknown_state') {
      m._warnOnce(`unknown:${this.name}`, 'error', m._unknownText(this.name));
      return true;
    }
    if (!m._closed) return false;
    m._warnOnce(`closed:${this.name}`, 'error',
      `mirrorstate: ${what}() on "${this.name}" after its mirror was closed: the change is dropped. ` +
      'Something called mirror.close() (a MirrorProvider that unmounted?). Keep the mirror open while the page uses it, or open a new one with connect().');
    return true;
  }

  _push(step, value) {
    this._steps.push(step);
    if (value !== undefined) this._setValue(value);
    if (!this._scheduled) {
      this._scheduled = true;
      queueMicrotask(() => {
        this._scheduled = false;
        this._sendNext();
      });
    }
    this._changed();
  }

  _setValue(v) {
    if (v === this._value || deepEqual(v, this._value)) return false;
    this._value = v;
    for (const fn of [...this._subs]) {
      try { fn(v); } catch (e) { reportError(e); }
    }
    this._emit('change', v);
    this._emit('watch');
    return true;
  }

  _setError(err) {
    if (err === this._error) return;
    this._error = err;
    this._emit('error', this.error);
    this._changed();
  }

  _computeStatus() {
    const m = this._mirror;
    if (this._fatal || m._closed || (m._connError && m._connError.fatal)) return 'error';
    if (this._synced) return 'live';
    if (m._offline()) return 'offline';
    return 'connecting';
  }

  // Tells watchers (the React hooks) that something they may show changed.
  _changed() {
    const s = this._computeStatus();
    if (s !== this._status) {
      this._status = s;
      this._emit('status', s);
    }
    this._emit('watch');
  }

  _markReady() {
    if (this._readyDone) return;
    this._readyDone = true;
    this._resolveReady(this);
  }

  _applyBoot(b) {
    if (!b || typeof b !== 'object' || typeof b.version !== 'number') return;
    this._exists = b.exists !== false && b.version > 0 && b.state !== undefined;
    this._confirmed = this._exists ? b.state : undefined;
    this._version = this._exists ? b.version : 0;
    this._loaded = true;
    this._value = this._base();
    this._markReady();
  }

  // Recomputes what the page sees from the confirmed value: the change in
  // flight, then every waiting step, transactions re-run.
  _recompute() {
    let v = this._base();
    const f = this._flight;
    if (f) {
      let applied = false;
      if (!f.doomed) {
        try {
          v = applyPatch(v, f.ops);
          applied = true;
        } catch { /* the server will refuse it; show it re-run */ }
      }
      if (!applied) v = this._run(v, f.steps, false);
    }
    v = this._run(v, this._steps, true);
    this._setValue(v);
    this._checkSettled();
  }

  // Runs steps on v. For own (waiting) steps, records their new ops and,
  // once the server's value is known, drops those that no longer apply.
  _run(v, steps, own) {
    const canRun = this._known();
    const based = this._loaded;
    const kept = [];
    for (const s of steps) {
      if (!canRun) {
        kept.push(s);
        continue;
      }
      if (s.fn) {
        try {
          const r = produce(v, s.fn);
          v = r.value;
          if (own) s.ops = r.ops;
        } catch (e) {
          if (own && based) {
            this._drop(s, e);
            continue;
          }
        }
      } else if (s.set !== undefined && !s.based) {
        const ops = diff(v, s.set);
        if (own) {
          s.ops = ops;
          s.based = based;
        }
        v = applyPatch(v, ops);
      } else if (s.cas) {
        try {
          v = applyPatch(v, s.ops);
        } catch (e) {
          if (own && based) {
            this._drop(s, e);
            continue;
          }
        }
      } else {
        const [next, ops] = applyBestEffort(v, s.ops);
        v = next;
        if (own && based) {
          s.ops = ops;
          s.based = true;
        }
      }
      kept.push(s);
    }
    if (own) this._steps = kept;
    return v;
  }

  // A waiting step that no longer applies to the server's state: a recipe
  // that throws on it, or a compare-and-set whose test fails.
  _drop(step, e) {
    const message = String((e && e.message) || e);
    if (step.fn) {
      console.warn(`mirrorstate: a change to "${this.name}" was dropped: its update function threw when re-run on the newer state (${message}).`);
    }
    this._emit('conflict', { code: 'conflict', name: this.name, message });
  }

  _checkSettled() {
    if (this.pending > 0 && !this._mirror._closed) return;
    const waiters = this._settleWaiters;
    this._settleWaiters = [];
    for (const w of waiters) w();
  }

  _sendNext() {
    const m = this._mirror;
    if (this._flight || !this._synced || this._awaiting || this._fatal || !m._ready()) return;
    while (this._steps.length) {
      const strict = Boolean(this._steps[0].fn);
      let n = 1;
      if (!this._steps[0].solo) {
        while (n < this._steps.length && Boolean(this._steps[n].fn) === strict && !this._steps[n].solo) n++;
      }
      const steps = this._steps.slice(0, n);
      const ops = [];
      for (const s of steps) ops.push(...s.ops);
      if (ops.length === 0) {
        this._steps.splice(0, n);
        continue;
      }
      const ref = m._nextRef();
      const root = ops[0];
      let msg;
      if (!this._exists && root.path === '' && (root.op === 'replace' || root.op === 'add')) {
        // The state does not exist on the server: a patch would conflict.
        let state;
        try {
          state = applyPatch(undefined, ops);
        } catch {
          state = root.value;
        }
        msg = { type: 'set', name: this.name, base: this._version, state, ref };
      } else {
        msg = { type: 'patch', name: this.name, base: this._version, ops, ref };
        if (strict) msg.strict = true;
      }
      if (!m._send(msg)) return;
      this._steps.splice(0, n);
      this._flight = { ref, strict, steps, ops, conn: m._conn, doomed: false };
      break;
    }
    this._checkSettled();
    this._changed();
  }

  _subscribe() {
    this._synced = false;
    this._awaiting = false;
    this._sendSubscribe();
  }

  // Asks for a fresh snapshot on the current connection (a version gap, or
  // a change the client cannot follow op by op).
  _resubscribe() {
    this._awaiting = true;
    this._sendSubscribe();
  }

  _sendSubscribe() {
    const msg = { type: 'subscribe', name: this.name };
    if (this._hasInitial) msg.init = this._initial;
    this._mirror._send(msg);
  }

  _onDisconnect() {
    this._synced = false;
    this._awaiting = false;
    this._changed();
  }

  _onSnapshot(msg) {
    const m = this._mirror;
    const before = this._confirmed;
    this._confirmed = msg.exists === false ? undefined : msg.state;
    this._version = msg.version || 0;
    this._exists = msg.exists !== false && msg.version > 0;
    this._loaded = true;
    this._synced = true;
    this._awaiting = false;
    if (this._error && this._error.code === 'file_removed' && this._exists) this._setError(null);
    const f = this._flight;
    if (f && f.conn !== m._conn) {
      // In flight when the old connection dropped: sent again unless the
      // snapshot already shows it.
      this._flight = null;
      if (!alreadyApplied(this._confirmed, before, f.ops)) this._steps.unshift(...f.steps);
    }
    this._recompute();
    this._emit('snapshot', { version: this._version, state: this._confirmed, exists: this._exists });
    this._markReady();
    this._changed();
    m._noteApplied(this);
    this._sendNext();
  }

  _onPatch(msg) {
    if (!this._synced || this._awaiting) return undefined;
    if (msg.version !== this._version + 1) {
      this._resubscribe(); // a gap
      return undefined;
    }
    const before = this._confirmed;
    try {
      this._confirmed = applyPatch(this._confirmed, msg.ops);
    } catch {
      this._resubscribe();
      return undefined;
    }
    this._version = msg.version;
    this._exists = true;
    const f = this._flight;
    if (f && f.strict && !f.doomed && anyOverlap(changedPaths(msg.ops), touchedPaths(f.ops))) {
      // The server will refuse it as stale; meanwhile show it re-run.
      f.doomed = true;
    }
    this._recompute();
    const ev = { name: this.name, version: msg.version, ops: msg.ops, origin: msg.origin, before, state: this._confirmed };
    this._emit('patch', ev);
    this._changed();
    this._mirror._noteApplied(this);
    return ev;
  }

  _onAck(msg) {
    const f = this._flight;
    if (!f || f.ref !== msg.ref) {
      // The answer to a request that changed the state (revert): the client
      // cannot follow it op by op, so it fetches the result.
      if (typeof msg.version === 'number' && msg.version > this._version && this._synced) this._resubscribe();
      return;
    }
    this._flight = null;
    const before = this._confirmed;
    if (this._synced && !this._awaiting) {
      if (msg.version === this._version + 1) {
        try {
          this._confirmed = applyPatch(this._confirmed, f.ops);
          this._version = msg.version;
          this._exists = true;
        } catch {
          this._resubscribe();
        }
      } else if (msg.version > this._version + 1) {
        this._resubscribe(); // a gap
      }
      // else: the change changed nothing and was acked with the current version.
    }
    if (this._error && this._error.code === 'file_removed') this._setError(null);
    this._recompute();
    this._emit('ack', { ref: msg.ref, version: msg.version, ops: f.ops, before, state: this._confirmed });
    this._changed();
    this._mirror._noteApplied(this);
    this._sendNext();
  }

  _onError(err) {
    const m = this._mirror;
    const f = this._flight;
    const mine = Boolean(f) && err.ref !== undefined && err.ref === f.ref;
    if (err.code === 'file_ok') {
      if (this._error && FILE_ERRORS.has(this._error.code)) this._setError(null);
      return;
    }
    if (FILE_ERRORS.has(err.code)) {
      this._setError(err);
      return;
    }
    if (err.code === 'unknown_state') {
      // Nothing sent to this name can ever apply on this server.
      this._fatal = true;
      this._flight = null;
      this._steps = [];
      this._recompute();
      this._setError(err);
      m._warnOnce(`unknown:${this.name}`, 'error', m._unknownText(this.name));
      this._markReady();
      this._changed();
      return;
    }
    if (mine && err.code === 'conflict') {
      // Refused as stale or no longer applying: a snapshot follows; the
      // steps are re-run (or re-applied) on it and sent again.
      this._flight = null;
      const retry = [];
      for (const s of f.steps) {
        s.tries = (s.tries || 0) + 1;
        if (s.tries <= MAX_RETRIES) retry.push(s);
      }
      if (retry.length < f.steps.length) {
        m._warnOnce(`retries:${this.name}`, 'warn', `mirrorstate: a change to "${this.name}" was refused as a conflict ${MAX_RETRIES} times in a row and is dropped.`);
      }
      this._steps.unshift(...retry);
      this._awaiting = true;
      this._emit('conflict', err);
      return;
    }
    if (mine && f.steps.length > 1) {
      // Several changes went out together: send them one by one, so only
      // the one the server refuses is dropped.
      this._flight = null;
      for (const st of f.steps) st.solo = true;
      this._steps.unshift(...f.steps);
      this._recompute();
      this._sendNext();
      return;
    }
    if (mine) {
      // Refused for good: dropped; the page returns to the server's state.
      this._flight = null;
      this._recompute();
      this._setError(err);
      m._warnOnce(`refused:${this.name}:${err.code}`, 'warn',
        `mirrorstate: the server refused a change to "${this.name}" (${err.code}: ${err.message || 'no reason given'}). ` +
        'The change was dropped and the page shows the server\'s state again; state.error holds the details.');
      this._changed();
      this._sendNext();
      return;
    }
    if (err.code === 'conflict') return; // about a change no longer in flight
    this._setError(err);
  }
}
