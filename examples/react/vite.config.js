import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The app runs on its own dev server (port 3000) and talks to MirrorState on
// port 7420 of the same host; see src/mirror.js for how the URL is chosen.
export default defineConfig({
  plugins: [react()],
  // mirrorstate-client is linked from ../../client-js: make its bare "react"
  // import resolve to this app's copy.
  resolve: { dedupe: ['react', 'react-dom'] },
  server: {
    port: Number(process.env.PORT) || 3000,
    strictPort: true,
    fs: { allow: ['.', '../../client-js'] },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
