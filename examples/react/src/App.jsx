import { useState } from 'react';
import { useMirrorState, useMirrorStatus, useMirrorError } from 'mirrorstate-client/react';
import { STATE, INITIAL, countRender } from './mirror.js';

const STATUS = { open: 'Live', connecting: 'Connecting…', closed: 'Offline — retrying' };

function Status() {
  const status = useMirrorStatus();
  return (
    <span className="status" data-status={status} data-testid="status">
      <span className="dot" aria-hidden="true" />
      {STATUS[status] || status}
    </span>
  );
}

function FileError() {
  const err = useMirrorError(STATE);
  if (!err) return null;
  return (
    <div className="banner" role="alert" data-testid="banner" data-code={err.code}>
      {err.code === 'file_invalid' ? (
        <>
          <strong>state.json holds invalid JSON (line {err.line}, column {err.column})</strong>
          <p>{err.message}. Changes made here are kept and saved once the file is fixed.</p>
        </>
      ) : (
        <strong>{err.code}: {err.message}</strong>
      )}
    </div>
  );
}

// Two components reading the same state: the big counter and its controls...
function Counter() {
  const [state, update] = useMirrorState(STATE, INITIAL);
  countRender('Counter');
  return (
    <section className="card counter">
      <h2>Counter</h2>
      <output data-testid="count">{state?.count ?? 0}</output>
      <div className="row">
        <button type="button" data-testid="dec" onClick={() => update((d) => { d.count--; })}>−</button>
        <button type="button" data-testid="inc" className="primary" onClick={() => update((d) => { d.count++; })}>+</button>
        <button type="button" data-testid="reset" className="ghost" onClick={() => update((d) => { d.count = 0; })}>Reset</button>
      </div>
    </section>
  );
}

// ...and a badge elsewhere in the tree, sharing it without any prop passing.
function CountBadge() {
  const [state] = useMirrorState(STATE, INITIAL);
  countRender('CountBadge');
  return <span className="badge" data-testid="badge" title="The same state, read by another component">count {state?.count ?? 0}</span>;
}

function Todos() {
  const [state, update] = useMirrorState(STATE, INITIAL);
  const [text, setText] = useState('');
  countRender('Todos');
  const todos = Array.isArray(state?.todos) ? state.todos : [];
  const add = (e) => {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    update((d) => {
      if (!Array.isArray(d.todos)) d.todos = [];
      const id = d.todos.reduce((m, x) => Math.max(m, Number(x.id) || 0), 0) + 1;
      d.todos.push({ id, text: t, done: false });
    });
    setText('');
  };
  return (
    <section className="card todos">
      <h2>Todos <small>{todos.filter((t) => !t.done).length} left</small></h2>
      <form onSubmit={add} className="add">
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="Add a todo" aria-label="New todo" data-testid="new" />
        <button type="submit" className="primary">Add</button>
      </form>
      <ul data-testid="todos">
        {todos.map((t, i) => (
          <li key={t.id ?? i} className={t.done ? 'done' : ''}>
            <label>
              <input type="checkbox" checked={!!t.done} onChange={() => update((d) => { d.todos[i].done = !d.todos[i].done; })} />
              <span>{t.text}</span>
            </label>
            <button type="button" className="delete" aria-label={`Delete ${t.text}`} onClick={() => update((d) => { d.todos.splice(i, 1); })}>×</button>
          </li>
        ))}
      </ul>
      {todos.length === 0 && <p className="empty">Nothing to do.</p>}
    </section>
  );
}

export default function App() {
  return (
    <main className="page">
      <header className="top">
        <h1>MirrorState <span>+ React</span></h1>
        <CountBadge />
        <Status />
      </header>
      <FileError />
      <div className="grid">
        <Counter />
        <Todos />
      </div>
      <p className="hint">Everything here lives in <code>examples/react/state.json</code>. Edit the file and the page follows; click and the file follows.</p>
    </main>
  );
}
