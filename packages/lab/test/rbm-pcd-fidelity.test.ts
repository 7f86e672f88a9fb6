import { useCpuBackend } from '@ebmjs/test-utils';
import type { ImageDataset } from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runRbmLab } from '../src/index.js';
import { pseudoLogLikelihood64, sklearnPcd, uniform } from './sklearn-rbm.js';

useCpuBackend();

const SIDE = 6;
const D = SIDE * SIDE;

/**
 * 6×6 binary images: one of four shapes (a horizontal bar pair, a vertical bar pair, a
 * diagonal, a frame) with each pixel flipped with probability 0.05. An RBM with a few hidden
 * units models it well; independent pixels do not.
 */
function shapes(n: number, seed: number): ImageDataset {
  const rand = uniform(seed);
  const on = (shape: number, r: number, c: number) =>
    shape === 0
      ? r === 1 || r === 4
      : shape === 1
        ? c === 1 || c === 4
        : shape === 2
          ? r === c || r === c + 1
          : r === 0 || c === 0 || r === SIDE - 1 || c === SIDE - 1;
  const pixels = new Uint8Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const shape = Math.floor(rand() * 4);
    labels[i] = shape;
    for (let r = 0; r < SIDE; r++)
      for (let c = 0; c < SIDE; c++)
        pixels[i * D + r * SIDE + c] = on(shape, r, c) !== rand() < 0.05 ? 255 : 0;
  }
  return {
    name: 'shapes',
    imageShape: [SIDE, SIDE, 1],
    pixels,
    labels,
    classNames: ['rows', 'columns', 'diagonal', 'frame'],
  };
}

const binary = (ds: ImageDataset) => Float64Array.from(ds.pixels, (p) => (p > 127.5 ? 1 : 0));

describe('the lab’s PCD against scikit-learn’s BernoulliRBM', () => {
  it('reaches at least the test pseudo-log-likelihood of sklearn’s algorithm (float64) at the same budget', async () => {
    const train = shapes(3000, 1);
    const test = shapes(1000, 2);
    const budget = { numHidden: 16, steps: 400, batchSize: 32 };
    const before = tf.memory().numTensors;
    const { table } = await runRbmLab(train, test, {
      ...budget,
      methods: ['pcd'],
      samples: 1,
      gibbsSteps: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    const ours = table.rows.find((r) => r.method === 'pcd')!.pseudoLogLikelihood;
    const marginals = table.rows[0]!.pseudoLogLikelihood;
    // sklearn's update at its documented MNIST setting (lr 0.05, plain SGD), two seeds.
    const reference = [0, 1].map((seed) =>
      pseudoLogLikelihood64(
        sklearnPcd(binary(train), D, { ...budget, learningRate: 0.05, seed }),
        binary(test),
      ),
    );
    const sklearn = Math.min(...reference);
    // The reference learns the shapes: far above independent pixels.
    expect(sklearn).toBeGreaterThan(marginals + 3);
    // The lab's PCD setting is no worse than sklearn's own (measured: ours −7.7, sklearn −8.6
    // and −9.3, independent pixels −22.0; the earlier SGD momentum 0.9 at 0.002 reached −20.1).
    expect(ours).toBeGreaterThan(sklearn - 0.5);
  }, 120_000);
});
