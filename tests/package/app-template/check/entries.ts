// Every entry point of the package, type-checked under node16/nodenext
// resolution as well as bundler resolution.
import { connect, getDefaultMirror, type Mirror, type State } from 'mirrorstate-client';
import { applyPatch, diff, type Operation } from 'mirrorstate-client/patch';
import { useMirrorState } from 'mirrorstate-client/react';
import mirrorstate, { type MirrorStateOptions } from 'mirrorstate-client/vite';
import { mirror } from 'mirrorstate-client/zustand';
import { createStore } from 'zustand/vanilla';

const options: MirrorStateOptions = { file: 'state.json', files: ['a.json'], dir: 'states', bin: 'mirrorstate', url: 'http://127.0.0.1:7420', args: ['-v'], port: 0 };
export const plugin = mirrorstate(options);
export const m: Mirror = connect({ url: 'ws://127.0.0.1:7420/_mirrorstate/ws' });
export const s: State<{ count: number }> = getDefaultMirror().state('state', { initial: { count: 0 } });
export const ops: Operation[] = diff({ a: 1 }, { a: 2 });
export const doc = applyPatch<{ a: number }>({ a: 1 }, ops);
export const hook: typeof useMirrorState = useMirrorState;
export const store = createStore<{ n: number; inc: () => void }>()(
  mirror('counter', (set) => ({ n: 0, inc: () => set((x) => ({ n: x.n + 1 })) }), { mirror: m }),
);
export const n: number = store.getState().n;
