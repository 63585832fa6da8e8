// Built in a temporary directory whose node_modules is the React example's
// (see buildReactApp in tests/e2e/client.test.mjs).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  resolve: { dedupe: ['react', 'react-dom'] },
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, minify: false },
});
