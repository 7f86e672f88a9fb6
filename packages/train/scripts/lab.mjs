// Runs the EBM lab from a checkout: `node packages/train/scripts/lab.mjs [--datasets a,b]
// [--methods ml,cd,...] [--steps N] [--out DIR] [--seed S] [--rbm-steps N] [--no-rbm]`.
// lab.ts is loaded through Vite's SSR loader so the workspace packages resolve to their
// TypeScript sources (no build step); `ebm lab` in @ebmjs/cli runs the same `runLab`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, 'lab.ts');
const server = await createServer({
  configFile: false,
  logLevel: 'warn',
  root: join(here, '..'),
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, watch: null },
  resolve: { conditions: ['source'] },
  ssr: {
    resolve: {
      conditions: ['source', 'node', 'import', 'module'],
      externalConditions: ['node'],
    },
  },
  optimizeDeps: { noDiscovery: true, include: [] },
});
try {
  const mod = await server.ssrLoadModule(entry);
  await mod.main(process.argv.slice(2));
} finally {
  await server.close();
}
