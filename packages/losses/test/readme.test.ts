import { readFileSync } from 'node:fs';
import * as core from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as losses from '../src/index.js';

useCpuBackend();

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// Blocks marked `<!-- pack-check: run -->` are whole programs (top-level await): the packaging
// check runs them from the packed package (scripts/pack-check).
const blocks = [...readme.matchAll(/(<!-- pack-check: run[^>]*-->\n)?```ts\n([\s\S]*?)```/g)]
  .filter((m) => m[1] === undefined)
  .map((m) => m[2]!);
const modules: Record<string, Record<string, unknown>> = {
  '@ebmjs/losses': losses,
  '@ebmjs/core': core,
};

/** Turns a README block into a function body: imports become bindings, types are dropped. */
function compile(block: string): { params: string[]; args: unknown[]; body: string } {
  const params: string[] = [];
  const args: unknown[] = [];
  const body = block.replace(
    /import ([^;]+?) from '([^']+)';\n/g,
    (_, what: string, from: string) => {
      if (what.startsWith('* as ')) {
        expect(from).toBe('@tensorflow/tfjs-core');
        params.push(what.slice(5).trim());
        args.push(tf);
        return '';
      }
      const mod = modules[from];
      expect(mod, `README imports from ${from}`).toBeDefined();
      for (const name of what
        .replace(/[{}\s]/g, '')
        .split(',')
        .filter(Boolean)) {
        expect(mod![name], `${from} exports ${name}`).toBeDefined();
        params.push(name);
        args.push(mod![name]);
      }
      return '';
    },
  );
  // The examples annotate only with `: tf.Tensor`; drop it to run them as JavaScript.
  return { params, args, body: `${body.replace(/: tf\.Tensor\b/g, '')}\nreturn loss;` };
}

describe('README examples', () => {
  const examples = blocks.filter((b) => b.includes("from '@ebmjs/losses'"));

  it('has an example for every loss in the table', () => {
    const all = examples.join('\n');
    for (const name of [
      'ntXent',
      'infoNCE',
      'pirlNCE',
      'supCon',
      'pairContrastive',
      'triplet',
      'marginLosses.hinge',
      'marginLosses.log',
      'marginLosses.squareSquare',
      'marginLosses.squareExponential',
      'negativeLogLikelihood',
      'contrastiveDivergence',
      'nce',
      'ratioMatching',
      'minimumProbabilityFlow',
      'denoisingScoreMatching',
      'denoisingAutoencoderLoss',
      'reconstructionEnergy',
      'vicReg',
      'barlowTwins',
      'negativeCosine',
      'miners.batchHard',
      'miners.semiHard',
      'miners.multiSimilarity',
      'miners.tripletMargin',
      'crossBatchMemory',
    ]) {
      expect(all, name).toContain(`${name}(`);
    }
  });

  it.each(
    examples.map((b, i) => [b.split('\n').find((l) => l.includes('@ebmjs/losses'))!, i] as const),
  )('runs %s (block %i) and gives a finite scalar loss', async (_, i) => {
    const { params, args, body } = compile(examples[i]!);
    const run = new Function(...params, body) as (...a: unknown[]) => tf.Tensor;
    const before = tf.memory().numTensors;
    const loss = tf.tidy(() => run(...args));
    expect(loss).toBeInstanceOf(tf.Tensor);
    expect(loss.shape).toEqual([]);
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    loss.dispose();
    // Only the examples' own variables (and optimizer state) may survive the tidy.
    expect(tf.memory().numTensors - before).toBeLessThan(20);
  });
});
