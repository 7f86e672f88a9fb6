// Build or serve the example with Vite from the repository root:
//   npx vite examples/web-infer            (dev server)
//   npx vite build examples/web-infer      (static build in examples/web-infer/dist)
// The demo assets (a small exported encoder and a gallery of synthetic shapes) are the
// @ebmjs/web-infer test fixtures, served as the public directory.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('../../packages/web-infer/test/fixtures'),
  resolve: {
    // The example has no package.json of its own: resolve the workspace package by folder; its
    // "exports" map picks the browser entry ("source" selects the TypeScript sources, no build).
    alias: { '@ebmjs/web-infer': here('../../packages/web-infer') },
    conditions: ['source', 'browser', 'module', 'import', 'default'],
  },
  // onnxruntime-web ships prebuilt ESM and loads its .wasm itself: do not pre-bundle it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: {
    // Cross-origin isolation, so onnxruntime-web may use wasm threads (SharedArrayBuffer).
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
  preview: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
  build: { target: 'es2022', emptyOutDir: true },
});
