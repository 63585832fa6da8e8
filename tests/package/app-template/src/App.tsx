import { useState } from 'react';
import { useMirrorState } from 'mirrorstate-client/react';
import { useTodo } from './todo.ts';

declare global {
  interface Window {
    counterRenders: unknown[];
    todoRenders: number[];
    loads: number;
  }
}
window.counterRenders ??= [];
window.todoRenders ??= [];

function Counter() {
  const [state, update] = useMirrorState('state', { count: 0 });
  window.counterRenders.push(state.count);
  return (
    <p>
      <span data-testid="count">{state.count}</span>{' '}
      <button data-testid="inc" onClick={() => update((d) => { d.count += 1; })}>+1</button>
    </p>
  );
}

function Todos() {
  const title = useTodo((s) => s.title);
  const items = useTodo((s) => s.items);
  const add = useTodo((s) => s.add);
  const toggle = useTodo((s) => s.toggle);
  const [text, setText] = useState('');
  window.todoRenders.push(items.length);
  return (
    <section>
      <h2 data-testid="title">{title}</h2>
      <ul data-testid="items">
        {items.map((t) => (
          <li key={t.id}>
            <label>
              <input type="checkbox" checked={t.done} onChange={() => toggle(t.id)} /> {t.text}
            </label>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => { e.preventDefault(); add(text); setText(''); }}>
        <input data-testid="new" value={text} onChange={(e) => setText(e.target.value)} />
      </form>
    </section>
  );
}

export default function App() {
  return (
    <main>
      <Counter />
      <Todos />
    </main>
  );
}
