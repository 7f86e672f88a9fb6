import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as browser from '../src/index.browser.js';
import * as node from '../src/index.node.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Every specifier a module imports statically or dynamically, following relative imports. */
function importGraph(entry: string): { files: string[]; bare: Set<string> } {
  const files: string[] = [];
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (files.includes(file)) return;
    files.push(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:import|export)[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm,
    )) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.add(spec);
    }
  };
  visit(join(SRC, entry));
  return { files, bare };
}

describe('entries', () => {
  it('the browser entry never reaches Node built-ins, onnxruntime-node or sharp', () => {
    const { files, bare } = importGraph('index.browser.ts');
    expect(files.length).toBeGreaterThan(5);
    // @ebmjs/contract's main entry has no dependencies; its ./node subpath (fs) stays out.
    expect([...bare].sort()).toEqual(['@ebmjs/contract', 'onnxruntime-web/webgpu']);
    const nodeGraph = importGraph('index.node.ts').bare;
    expect(nodeGraph).toContain('onnxruntime-node');
    expect(nodeGraph).toContain('sharp');
  });

  it('both entries export the contract names', () => {
    for (const entry of [node, browser] as Record<string, unknown>[]) {
      for (const name of [
        'FeatureExtractor',
        'cosineSimilarity',
        'cosineEnergy',
        'EmbeddingIndex',
        'EbmError',
        'isEbmError',
        'WebInferError',
        'readModelInfo',
        'configureRuntime',
      ]) {
        expect(entry[name], name).toBeDefined();
      }
      expect(typeof (entry['FeatureExtractor'] as { create: unknown }).create).toBe('function');
    }
    expect(node.embedFiles).toBeTypeOf('function');
    expect((browser as Record<string, unknown>)['embedFiles']).toBeUndefined();
  });

  it('package.json routes node to the Node entry and everything else to the browser entry', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '..', 'package.json'), 'utf8'));
    const dot = pkg.exports['.'];
    expect(dot.source).toEqual({ node: './src/index.node.ts', default: './src/index.browser.ts' });
    expect(dot.node.default).toBe('./dist/index.node.js');
    expect(dot.browser.default).toBe('./dist/index.browser.js');
    expect(dot.default.default).toBe('./dist/index.browser.js');
    expect(pkg.dependencies).toEqual({
      '@ebmjs/contract': 'workspace:^',
      'onnxruntime-web': expect.any(String),
    });
  });
});
