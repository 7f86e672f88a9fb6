// Runs generate-fixtures.ts through Vite's SSR loader: the workspace packages it imports
// (@ebmjs/export, @ebmjs/models) are TypeScript sources reached through the "source" condition.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');

// Until `pnpm install` links the devDependencies, point the two workspace packages at their
// package folders (their package.json "exports" still decide the entry).
const alias = {};
for (const name of ['export', 'models']) {
  try {
    createRequire(join(here, '..', 'package.json')).resolve(`@ebmjs/${name}/package.json`);
  } catch {
    alias[`@ebmjs/${name}`] = join(packages, name);
  }
}

const server = await createServer({
  configFile: false,
  logLevel: 'warn',
  root: join(here, '..'),
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
  resolve: { alias, conditions: ['source'] },
  ssr: {
    resolve: { conditions: ['source', 'node', 'import', 'module'], externalConditions: ['node'] },
  },
  optimizeDeps: { noDiscovery: true, include: [] },
});
try {
  await server.ssrLoadModule(join(here, 'generate-fixtures.ts'));
} finally {
  await server.close();
}
