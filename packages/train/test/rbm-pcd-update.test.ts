import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, RBM } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../src/datasets/dataset.js';
import { trainRBM } from '../src/recipes/rbm.js';

useCpuBackend();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebm-rbm-pcd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * scikit-learn's BernoulliRBM._fit in float64, given the negatives v⁻ the chains reached:
 * h = σ(vW + c) for data and negatives alike, and with lr/n scaling
 *   W += lr/n (v⁺ᵀh⁺ − v⁻ᵀh⁻), b += lr/n Σ(v⁺ − v⁻), c += lr/n Σ(h⁺ − h⁻).
 */
function sklearnStep(
  w: number[],
  b: number[],
  c: number[],
  pos: number[][],
  neg: number[][],
  lr: number,
) {
  const [nv, nh] = [b.length, c.length];
  const hid = (v: number[]) =>
    c.map((cj, j) => sigmoid(v.reduce((a, vi, i) => a + vi * w[i * nh + j]!, cj)));
  const step = lr / pos.length;
  const w1 = [...w];
  const b1 = [...b];
  const c1 = [...c];
  for (const [rows, sign] of [
    [pos, 1],
    [neg, -1],
  ] as const) {
    for (const v of rows) {
      const h = hid(v);
      for (let i = 0; i < nv; i++) {
        b1[i]! += sign * step * v[i]!;
        for (let j = 0; j < nh; j++) w1[i * nh + j]! += sign * step * v[i]! * h[j]!;
      }
      for (let j = 0; j < nh; j++) c1[j]! += sign * step * h[j]!;
    }
  }
  return { w: w1, b: b1, c: c1 };
}

describe('trainRBM PCD', () => {
  it('makes scikit-learn’s BernoulliRBM update from its persistent chains (SGD, lr on the batch mean)', async () => {
    // Eight 2×3 images, one batch of all of them, so one step sees every row.
    const images = [
      [1, 1, 1, 0, 0, 0],
      [0, 0, 0, 1, 1, 1],
      [1, 0, 1, 0, 1, 0],
      [0, 1, 0, 1, 0, 1],
      [1, 1, 0, 0, 1, 1],
      [1, 0, 0, 0, 0, 1],
      [0, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 1, 1],
    ];
    const dataset: ImageDataset = {
      name: 'six-pixels',
      imageShape: [2, 3, 1],
      pixels: Uint8Array.from(images.flat(), (p) => p * 255),
      labels: new Int32Array(images.length),
      classNames: ['x'],
    };
    const rbm = new RBM({ numVisible: 6, numHidden: 3, initStd: 0.7, seed: 3 });
    rbm.assign({ visibleBias: [0.3, -0.2, 0.1, 0, -0.4, 0.2], hiddenBias: [0.1, -0.3, 0.2] });
    const [w0, b0, c0] = rbm.trainableVariables.map((v) => Array.from(v.dataSync()));
    const lr = 0.3;
    const runDir = join(dir, 'one-step');
    await trainRBM({
      dataset,
      rbm,
      method: 'pcd',
      k: 1,
      epochs: 1,
      batchSize: 8,
      optimizer: { name: 'sgd', learningRate: lr, momentum: 0 },
      schedule: 'constant',
      seed: 2,
      monitor: false,
      runDir,
    });
    // The checkpoint holds the chains after the step: the negatives of that step.
    const chains = await loadBundle(join(runDir, 'checkpoint', 'chains'), 'replay-buffer', {
      tensors: ['data'],
    });
    const flat = Array.from(chains.tensors['data']!.data);
    const neg = Array.from({ length: 8 }, (_, r) => flat.slice(r * 6, (r + 1) * 6));
    expect(new Set(flat)).toEqual(new Set([0, 1]));
    const want = sklearnStep(w0!, b0!, c0!, images, neg, lr);
    const [w1, b1, c1] = rbm.trainableVariables.map((v) => Array.from(v.dataSync()));
    for (const [got, expected] of [
      [w1!, want.w],
      [b1!, want.b],
      [c1!, want.c],
    ] as const)
      got.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 5));
    // The step moved the weights (the test is not comparing W₀ with itself).
    expect(Math.max(...w1!.map((x, i) => Math.abs(x - w0![i]!)))).toBeGreaterThan(1e-3);
    rbm.dispose();
  });
});
