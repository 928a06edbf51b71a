import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** Where `tailor serve` listens during `vite` dev; the dev server proxies the API to it. */
const apiTarget = process.env.TAILOR_URL ?? 'http://127.0.0.1:50052';

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // scripts/bundle-size.mjs reads it to find what the first load of a page fetches.
    manifest: true,
    // Pages are lazy chunks; scripts/bundle-size.mjs holds the first load (shell + Tasks) to its
    // budget. React is its own chunk: it changes least and is shared by every page.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [{ name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ }],
        },
      },
    },
  },
  server: {
    // The console imports the typed client from ../src/client.
    fs: { allow: [repoRoot] },
    proxy: {
      '/api': apiTarget,
      '/ws': { target: apiTarget.replace(/^http/, 'ws'), ws: true },
    },
  },
});
