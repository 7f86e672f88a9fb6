import { EbmError, gibbs } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { RBM } from '../src/index.js';

useCpuBackend();

/** All 2^n binary vectors, unit 0 as the most significant bit. */
const allStates = (n: number) =>
  Array.from({ length: 2 ** n }, (_, s) =>
    Array.from({ length: n }, (_, i) => (s >> (n - 1 - i)) & 1),
  );

const W = [
  [1.5, -1.0],
  [-1.2, 2.0],
  [0.8, 0.9],
];
const b = [-0.5, 0.3, 0.2];
const c = [0.5, -1.0];

/** E(v, h) = −bᵀv − cᵀh − vᵀWh in plain JS. */
const energyJs = (w: number[][], bv: number[], ch: number[], v: number[], h: number[]) => {
  let e = 0;
  v.forEach((vi, i) => {
    e -= bv[i]! * vi;
  });
  h.forEach((hj, j) => {
    e -= ch[j]! * hj;
  });
  v.forEach((vi, i) => {
    h.forEach((hj, j) => {
      e -= vi * w[i]![j]! * hj;
    });
  });
  return e;
};

const tiny = () => {
  const rbm = new RBM({ numVisible: 3, numHidden: 2 });
  rbm.assign({ weights: W, visibleBias: b, hiddenBias: c });
  return rbm;
};

/** Exact p(v) ∝ Σ_h exp(−E(v, h)) by enumeration. */
const exactMarginal = () => {
  const hs = allStates(2);
  const weights = allStates(3).map((v) =>
    hs.reduce((s, h) => s + Math.exp(-energyJs(W, b, c, v, h)), 0),
  );
  const z = weights.reduce((a, x) => a + x, 0);
  return weights.map((x) => x / z);
};

const histogram = (samples: tf.Tensor) => {
  const counts = new Array(8).fill(0);
  const data = samples.dataSync();
  const n = samples.shape[0]!;
  for (let r = 0; r < n; r++) counts[data[r * 3]! * 4 + data[r * 3 + 1]! * 2 + data[r * 3 + 2]!]++;
  return counts.map((k) => k / n);
};

const tv = (p: number[], q: number[]) => 0.5 * p.reduce((s, x, i) => s + Math.abs(x - q[i]!), 0);

describe('RBM', () => {
  it('free energy equals −log Σ_h exp(−E(v, h)) by brute force', () => {
    const rbm = new RBM({ numVisible: 4, numHidden: 3, initStd: 1, seed: 11 });
    const w = rbm.weights.arraySync() as number[][];
    rbm.assign({ visibleBias: [0.3, -0.7, 1.1, 0], hiddenBias: [-0.4, 0.9, 0.2] });
    const bv = Array.from(rbm.visibleBias.dataSync());
    const ch = Array.from(rbm.hiddenBias.dataSync());
    const vs = allStates(4);
    const hs = allStates(3);
    const brute = vs.map(
      (v) => -Math.log(hs.reduce((s, h) => s + Math.exp(-energyJs(w, bv, ch, v, h)), 0)),
    );
    const f = rbm.freeEnergy(tf.tensor2d(vs));
    expect(f.shape).toEqual([16]);
    expectClose(f.dataSync(), brute, { atol: 1e-4, rtol: 1e-5 });
    // and energy() is the joint energy the brute force used
    const v = tf.tensor2d(vs.flatMap((x) => hs.map(() => x)));
    const h = tf.tensor2d(vs.flatMap(() => hs));
    const e = rbm.energy(v, h);
    expectClose(
      e.dataSync(),
      vs.flatMap((x) => hs.map((y) => energyJs(w, bv, ch, x, y))),
      { atol: 1e-5 },
    );
    tf.dispose([f, v, h, e]);
    rbm.dispose();
  });

  it('has the exact conditionals p(h|v) and p(v|h)', () => {
    const rbm = tiny();
    const vs = allStates(3);
    const ph = rbm.hiddenProbs(tf.tensor2d(vs)).arraySync() as number[][];
    vs.forEach((v, r) => {
      const joint = allStates(2).map((h) => Math.exp(-energyJs(W, b, c, v, h)));
      const z = joint.reduce((a, x) => a + x, 0);
      // h = [h0, h1]: states 2 and 3 have h0 = 1, states 1 and 3 have h1 = 1
      expectClose(ph[r]!, [(joint[2]! + joint[3]!) / z, (joint[1]! + joint[3]!) / z], {
        atol: 1e-6,
      });
    });
    const pv = rbm.visibleProbs(tf.tensor2d([[1, 0]])).dataSync();
    const sigma = (x: number) => 1 / (1 + Math.exp(-x));
    expectClose(
      pv,
      [sigma(b[0]! + W[0]![0]!), sigma(b[1]! + W[1]![0]!), sigma(b[2]! + W[2]![0]!)],
      { atol: 1e-6 },
    );
    rbm.dispose();
  });

  it('block Gibbs chains reach the exact marginal p(v) (total variation < 0.05)', () => {
    const rbm = tiny();
    const exact = exactMarginal();
    // not a trivial target: far from uniform
    expect(tv(exact, new Array(8).fill(1 / 8))).toBeGreaterThan(0.15);
    const v0 = tf.zeros([4000, 3]);
    const { v, h } = rbm.sample(v0, 30, 123);
    expect(v.shape).toEqual([4000, 3]);
    expect(h.shape).toEqual([4000, 2]);
    const empirical = histogram(v);
    const distance = tv(exact, empirical);
    expect(distance).toBeLessThan(0.05);
    // the chains moved away from their start
    expect(tv(empirical, [1, 0, 0, 0, 0, 0, 0, 0])).toBeGreaterThan(0.5);
    tf.dispose([v0, v, h]);
    rbm.dispose();
  });

  it("works as an energy function for core's generic Gibbs sampler", () => {
    const rbm = tiny();
    const init = tf.zeros([3000, 3]);
    const { samples } = gibbs(rbm.freeEnergy, init, { sweeps: 15, seed: 9 });
    expect(tv(exactMarginal(), histogram(samples))).toBeLessThan(0.05);
    tf.dispose([init, samples]);
    rbm.dispose();
  });

  it('sampling is seeded and k = 0 returns the start', () => {
    const rbm = new RBM({ numVisible: 6, numHidden: 4, initStd: 1, seed: 3 });
    const v0 = tf.tensor2d([
      [1, 0, 1, 0, 1, 0],
      [0, 0, 0, 1, 1, 1],
    ]);
    const a = rbm.sample(v0, 5, 42);
    const b2 = rbm.sample(v0, 5, 42);
    expect(Array.from(a.v.dataSync())).toEqual(Array.from(b2.v.dataSync()));
    expect(new Set(a.v.dataSync())).toEqual(new Set([0, 1]));
    const z = rbm.sample(v0, 0, 1);
    expect(Array.from(z.v.dataSync())).toEqual(Array.from(v0.dataSync()));
    tf.dispose([v0, a.v, a.h, b2.v, b2.h, z.v, z.h]);
    rbm.dispose();
  });

  it('gives the free-energy gradient ∂F/∂W = −v σ(c + vW)ᵀ to the trainable variables', () => {
    const rbm = tiny();
    const v = tf.tensor2d([
      [1, 0, 1],
      [0, 1, 1],
    ]);
    const { grads } = tf.variableGrads(
      () => tf.sum(rbm.freeEnergy(v)) as tf.Scalar,
      rbm.trainableVariables,
    );
    const ph = rbm.hiddenProbs(v).arraySync() as number[][];
    const vs = v.arraySync() as number[][];
    const expectedW = W.map((row, i) =>
      row.map((_, j) => -vs.reduce((s, x, r) => s + x[i]! * ph[r]![j]!, 0)),
    );
    expectClose(grads[rbm.weights.name]!.dataSync(), expectedW.flat(), { atol: 1e-6 });
    expectClose(grads[rbm.visibleBias.name]!.dataSync(), [-1, -1, -2], { atol: 1e-6 });
    expectClose(
      grads[rbm.hiddenBias.name]!.dataSync(),
      [0, 1].map((j) => -(ph[0]![j]! + ph[1]![j]!)),
      { atol: 1e-6 },
    );
    rbm.dispose();
  });

  it('freeEnergy never reads back from the device (the hot path of RM, MPF and Gibbs)', () => {
    const rbm = tiny();
    const v = tf.tensor2d(allStates(3));
    const backend = tf.backend();
    const spies = [
      vi.spyOn(backend, 'readSync'),
      vi.spyOn(backend, 'read'),
      vi.spyOn(tf.Tensor.prototype, 'dataSync'),
      vi.spyOn(tf.Tensor.prototype, 'arraySync'),
      vi.spyOn(tf.Tensor.prototype, 'data'),
      vi.spyOn(tf.Tensor.prototype, 'array'),
    ];
    try {
      const energies: tf.Tensor[] = [];
      for (let i = 0; i < 5; i++) energies.push(rbm.freeEnergy(v));
      const grads = tf.variableGrads(
        () => tf.mean(rbm.freeEnergy(v)) as tf.Scalar,
        rbm.trainableVariables,
      );
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      tf.dispose([...energies, ...Object.values(grads.grads), grads.value]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    // checkedFreeEnergy is the entry point that scans its input for NaN/Infinity.
    const nan = tf.tensor2d([[0, Number.NaN, 1]]);
    expect(() => rbm.checkedFreeEnergy(nan)).toThrow(
      expect.objectContaining({ code: 'NON_FINITE' }),
    );
    expectClose(
      rbm.checkedFreeEnergy(v).arraySync() as number[],
      rbm.freeEnergy(v).arraySync() as number[],
      { atol: 0 },
    );
    expect(() => rbm.freeEnergy(tf.ones([2, 4]))).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => rbm.freeEnergy(tf.ones([2, 3], 'int32'))).toThrow(
      expect.objectContaining({ code: 'INVALID_DTYPE' }),
    );
    tf.dispose([v, nan]);
    rbm.dispose();
  });

  it('validates inputs and leaks nothing', async () => {
    const rbm = tiny();
    expect(() => rbm.freeEnergy(tf.ones([2, 4]))).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => rbm.energy(tf.ones([2, 3]), tf.ones([3, 2]))).toThrow(EbmError);
    expect(() => rbm.assign({ weights: [[1, 2]] })).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => new RBM({ numVisible: 0, numHidden: 2 })).toThrow(EbmError);
    const v = tf.ones([4, 3]);
    await expectNoTensorLeak(() => rbm.sample(v, 3));
    await expectNoTensorLeak(() => rbm.freeEnergy(v));
    await expectNoTensorLeak(() =>
      tf.variableGrads(() => tf.mean(rbm.freeEnergy(v)) as tf.Scalar, rbm.trainableVariables),
    );
    rbm.dispose();
    expect(() => rbm.freeEnergy(v)).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });
});
