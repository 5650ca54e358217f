// Builds the explorer into dist/ (static files the auditor serves at `/`). Paths are relative (base './')
// and routes live in the URL's hash, so the same build works at `/` and behind an Ingress path prefix.
//
// The protocol is @chainlog/core/protocol's sources (the @chainlog/source condition), bundled: the explorer
// runs the very code the miners and the auditor run. Two node-only names they mention get browser
// stand-ins: Buffer (the `buffer` package, installed by src/platform/buffer.ts) and node:crypto
// (src/platform/node-crypto.ts, which only fails loudly: the browser hashes with WebCrypto).
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: './',
  root: here('.'),
  publicDir: here('public'),
  resolve: {
    conditions: ['@chainlog/source', ...defaultClientConditions],
    alias: [{ find: /^node:crypto$/, replacement: here('src/platform/node-crypto.ts') }],
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 200,
  },
  server: { port: 20780, strictPort: false },
});
