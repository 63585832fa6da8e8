import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import mirrorstate from 'mirrorstate-client/vite';

export default defineConfig({
  plugins: [react(), mirrorstate({ files: ['state.json', 'todo.json'] })],
});
