import { create } from 'zustand';
import { mirror } from 'mirrorstate-client/zustand';

export interface Todo {
  id: number;
  text: string;
  done: boolean;
}

interface TodoStore {
  title: string;
  items: Todo[];
  add: (text: string) => void;
  toggle: (id: number) => void;
}

export const useTodo = create<TodoStore>()(
  mirror('todo', (set) => ({
    title: 'Todo',
    items: [],
    add: (text) => set((s) => ({ items: [...s.items, { id: s.items.length + 1, text, done: false }] })),
    toggle: (id) => set((s) => ({ items: s.items.map((t) => (t.id === id ? { ...t, done: !t.done } : t)) })),
  })),
);

// For the test: the store, to compare its data with the file.
(globalThis as { todoStore?: typeof useTodo }).todoStore = useTodo;
