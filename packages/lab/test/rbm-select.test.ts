import { useCpuBackend } from '@ebmjs/test-utils';
import type { ImageDataset } from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { labMarkdown, rbmValidationSplit, runRbmLab, selectRbmOptimizers } from '../src/index.js';

useCpuBackend();

/**
 * n 4×4 images, label = index: the top or the bottom half on (alternately), with pixel i mod 16
 * flipped, so an RBM with a few hidden units has something quick to learn.
 */
function numbered(n: number): ImageDataset {
  const pixels = new Uint8Array(n * 16);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < 16; k++)
      pixels[i * 16 + k] = (k < 8 === (i % 2 === 0)) !== (k === i % 16) ? 255 : 0;
  return {
    name: 'numbered',
    imageShape: [4, 4, 1],
    pixels,
    labels: Int32Array.from({ length: n }, (_, i) => i),
    classNames: Array.from({ length: n }, (_, i) => String(i)),
  };
}

describe('selectRbmOptimizers', () => {
  it('holds out a seeded validation split of the training images, disjoint from the rest', () => {
    const ds = numbered(50);
    const { train, validation } = rbmValidationSplit(ds, 12, 3);
    expect(validation.labels.length).toBe(12);
    expect(train.labels.length).toBe(38);
    const seen = new Set([...train.labels, ...validation.labels]);
    expect(seen.size).toBe(50);
    expect(rbmValidationSplit(ds, 12, 3).validation.labels).toEqual(validation.labels);
    expect(rbmValidationSplit(ds, 12, 4).validation.labels).not.toEqual(validation.labels);
    expect(() => rbmValidationSplit(ds, 50)).toThrow(/validationSize must be below the 50/);
  });

  it('keeps the candidate with the best validation pseudo-log-likelihood, and runRbmLab uses it', async () => {
    const ds = numbered(200);
    const grid = {
      pcd: [
        { name: 'sgd' as const, learningRate: 1e-4, momentum: 0 },
        { name: 'sgd' as const, learningRate: 0.3, momentum: 0 },
      ],
    };
    const budget = { numHidden: 6, steps: 60, batchSize: 20, trainSize: 150 };
    const before = tf.memory().numTensors;
    const selection = await selectRbmOptimizers(ds, {
      ...budget,
      methods: ['pcd'],
      grid,
      validationSize: 40,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(selection.rows.map((r) => r.optimizer)).toEqual(grid.pcd);
    expect(selection.trainSize).toBe(150);
    // A rate of 1e-4 leaves the RBM where it started (PLL 16·log ½); 0.3 learns.
    const [slow, fast] = selection.rows.map((r) => r.validationPll);
    expect(slow!).toBeCloseTo(16 * Math.log(0.5), 0);
    expect(fast!).toBeGreaterThan(slow! + 0.5);
    expect(selection.best.pcd).toBe(grid.pcd[1]);

    const lab = await runRbmLab(ds, numbered(30), {
      ...budget,
      methods: ['pcd'],
      samples: 1,
      gibbsSteps: 1,
      select: { grid, validationSize: 40 },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(lab.table.optimizers.pcd).toEqual(grid.pcd[1]);
    expect(lab.table.selection?.rows.map((r) => r.validationPll)).toEqual([slow, fast]);
    const md = labMarkdown({ rbm: lab.table, backend: 'cpu' });
    expect(md).toContain('Optimizers chosen on 40 validation images');
    expect(md).toContain(`| pcd | SGD momentum 0 at 0.3 | ${fast!.toFixed(2)} | ✓ |`);
  }, 120_000);
});
