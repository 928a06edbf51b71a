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
    // antd's chunk is ~840 kB minified (~270 kB gzip) with the components the console uses.
    chunkSizeWarningLimit: 1000,
    // antd is the bulk of the bundle; it changes less often than the console, so it is cached apart.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'antd', test: /node_modules[\\/]/ },
          ],
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
