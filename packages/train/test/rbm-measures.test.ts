import { minimumProbabilityFlow, ratioMatching } from '@ebmjs/losses';
import { RBM } from '@ebmjs/models';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../src/datasets/dataset.js';
import {
  binaryBatch,
  pseudoLogLikelihood,
  rbmFlipGaps,
  rbmLogProbabilityFlow,
  rbmRatioMatching,
  reconstructionError,
  sklearnScoreSamples,
} from '../src/recipes/rbm-measures.js';

useCpuBackend();

function randomRbm(v: number, h: number, seed: number): RBM {
  const rbm = new RBM({ numVisible: v, numHidden: h, initStd: 0.8, seed });
  rbm.assign({
    visibleBias: Array.from({ length: v }, (_, i) => Math.sin(i + seed) * 0.7),
    hiddenBias: Array.from({ length: h }, (_, i) => Math.cos(i * 3 + seed) * 0.5),
  });
  return rbm;
}

const bits = (rows: number[][]) => tf.tensor2d(rows) as tf.Tensor2D;

/** F(v) = −log Σ_h exp(−E(v, h)) by enumerating all 2^H hidden states: an independent reference. */
function bruteFreeEnergy(rbm: RBM, v: number[]): number {
  const terms: number[] = [];
  for (let code = 0; code < 2 ** rbm.numHidden; code++) {
    const h = Array.from({ length: rbm.numHidden }, (_, j) => (code >> j) & 1);
    const e = rbm.energy(tf.tensor2d([v]), tf.tensor2d([h]));
    terms.push(-e.dataSync()[0]!);
    e.dispose();
  }
  const m = Math.max(...terms);
  return -(m + Math.log(terms.reduce((s, t) => s + Math.exp(t - m), 0)));
}

describe('RBM bit-flip measures', () => {
  const data = [
    [1, 0, 1, 1, 0, 0],
    [0, 0, 0, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
    [0, 1, 0, 0, 1, 0],
  ];

  it('closed-form flip gaps give the same ratio matching and MPF as the generic losses, values and gradients', () => {
    const rbm = randomRbm(6, 4, 1);
    const v = bits(data);
    const generic = {
      rm: ratioMatching(rbm.freeEnergy),
      mpf: minimumProbabilityFlow(rbm.freeEnergy, { log: true }),
    };
    const pairs: [() => tf.Scalar, () => tf.Scalar][] = [
      [() => rbmRatioMatching(rbm, v), () => generic.rm(v)],
      [() => rbmLogProbabilityFlow(rbm, v), () => generic.mpf(v)],
    ];
    for (const [fast, reference] of pairs) {
      expectClose(fast().dataSync()[0]!, reference().dataSync()[0]!, { atol: 1e-5 });
      const gFast = tf.variableGrads(fast, rbm.trainableVariables);
      const gRef = tf.variableGrads(reference, rbm.trainableVariables);
      for (const name of Object.keys(gRef.grads))
        expectClose(gFast.grads[name]!.dataSync(), gRef.grads[name]!.dataSync(), { atol: 1e-5 });
      tf.dispose([
        gFast.value,
        gRef.value,
        ...Object.values(gFast.grads),
        ...Object.values(gRef.grads),
      ]);
    }
    rbm.dispose();
    v.dispose();
  });

  it('computes the exact pseudo-log-likelihood Σ_j log p(v_j | v_−j) against enumeration', () => {
    const rbm = randomRbm(6, 3, 2);
    const v = bits(data);
    const pll = pseudoLogLikelihood(rbm, v);
    data.forEach((row, r) => {
      const f = bruteFreeEnergy(rbm, row);
      let expected = 0;
      for (let j = 0; j < row.length; j++) {
        const flipped = row.map((x, k) => (k === j ? 1 - x : x));
        const fFlip = bruteFreeEnergy(rbm, flipped);
        // p(v_j | v_−j) = e^{−F(v)} / (e^{−F(v)} + e^{−F(v̄ʲ)}).
        expected += -Math.log1p(Math.exp(f - fFlip));
      }
      expectClose(pll[r]!, expected, { atol: 1e-4 });
    });
    // Gaps are F(v) − F(v̄ʲ).
    const gaps = rbmFlipGaps(rbm, v);
    const flipped0 = data[0]!.map((x, k) => (k === 2 ? 1 - x : x));
    expectClose(
      gaps.arraySync()[0]![2]!,
      bruteFreeEnergy(rbm, data[0]!) - bruteFreeEnergy(rbm, flipped0),
      { atol: 1e-4 },
    );
    tf.dispose([gaps, v]);
    rbm.dispose();
  });

  it("scikit-learn's one-bit score is an unbiased estimate of the pseudo-log-likelihood", () => {
    const rbm = randomRbm(6, 4, 3);
    const row = data[0]!;
    const repeated = bits(Array.from({ length: 3000 }, () => row));
    const scores = sklearnScoreSamples(rbm, repeated, 11);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    const exact = pseudoLogLikelihood(rbm, bits([row]))[0]!;
    expect(Math.abs(mean - exact)).toBeLessThan(0.05 * Math.abs(exact) + 0.05);
    // Seeded: the same seed repeats.
    expect(Array.from(sklearnScoreSamples(rbm, repeated, 11).slice(0, 50))).toEqual(
      Array.from(scores.slice(0, 50)),
    );
    repeated.dispose();
    rbm.dispose();
  });

  it('gives the independent-pixel PLL when W = 0, and a reconstruction error of 0.25 at b = 0', () => {
    const rbm = new RBM({ numVisible: 6, numHidden: 2, initStd: 0 });
    const p = [0.1, 0.2, 0.5, 0.7, 0.9, 0.3];
    rbm.assign({ visibleBias: p.map((q) => Math.log(q / (1 - q))) });
    const v = bits(data);
    const pll = pseudoLogLikelihood(rbm, v);
    data.forEach((row, r) => {
      const expected = row.reduce((s, x, j) => s + Math.log(x ? p[j]! : 1 - p[j]!), 0);
      expectClose(pll[r]!, expected, { atol: 1e-5 });
    });
    rbm.assign({ visibleBias: [0, 0, 0, 0, 0, 0] });
    expectClose(reconstructionError(rbm, v), 0.25, { atol: 1e-7 });
    freeAll(v, rbm);
  });

  it('binarises images at the threshold and leaks nothing', async () => {
    const ds: ImageDataset = {
      name: 't',
      imageShape: [1, 3, 1],
      pixels: Uint8Array.from([0, 127, 128, 255, 200, 10]),
      labels: Int32Array.from([0, 0]),
      classNames: ['a'],
    };
    const b = binaryBatch(ds, [1, 0]);
    expect(b.arraySync()).toEqual([
      [1, 1, 0],
      [0, 0, 1],
    ]);
    b.dispose();
    expect(() => binaryBatch(ds, [2])).toThrow(/outside/);
    const rbm = randomRbm(6, 4, 4);
    const v = bits(data);
    await expectNoTensorLeak(() => {
      pseudoLogLikelihood(rbm, v);
      sklearnScoreSamples(rbm, v, 1);
      reconstructionError(rbm, v);
      return [rbmRatioMatching(rbm, v), rbmLogProbabilityFlow(rbm, v)];
    });
    freeAll(v, rbm);
  });
});

function freeAll(v: tf.Tensor, rbm: RBM): void {
  v.dispose();
  rbm.dispose();
}
