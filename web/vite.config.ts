// Builds the web client (web/src) into web/dist, which the server serves at `/`
// (src/server/web-client.ts). `npm run dev:web` serves it with hot reload and sends the API and
// the socket to a server on PARLEY_DEV_TARGET (default http://127.0.0.1:8080).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const target = process.env.PARLEY_DEV_TARGET ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  resolve: {
    // The client uses the SDK from source: one codebase, no publish step in between.
    alias: { 'parley/sdk': fileURLToPath(new URL('../src/sdk/index.ts', import.meta.url)) },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline polyfill script: the page's Content-Security-Policy allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/v1': target,
      '/ws': { target: target.replace(/^http/, 'ws'), ws: true },
    },
  },
});
