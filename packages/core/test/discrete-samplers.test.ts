import { expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EbmError, gibbs, metropolisHastings } from '../src/index.js';

useCpuBackend();

// A 3-spin Ising energy on {0,1}³ with a field: E(s) = −Σ_{i<j} J_ij σ_i σ_j − Σ h_i σ_i, σ = 2s − 1.
const J = [
  [0, 0.8, -0.5],
  [0.8, 0, 0.3],
  [-0.5, 0.3, 0],
];
const h = [0.2, -0.4, 0.1];
const isingJs = (s: number[]) => {
  const sigma = s.map((v) => 2 * v - 1);
  let e = 0;
  for (let i = 0; i < 3; i++) {
    e -= h[i]! * sigma[i]!;
    for (let j = i + 1; j < 3; j++) e -= J[i]![j]! * sigma[i]! * sigma[j]!;
  }
  return e;
};
const isingTf = (s: tf.Tensor) =>
  tf.tidy(() => {
    const sigma = tf.sub(tf.mul(s, 2), 1);
    const pair = tf.sum(tf.mul(tf.matMul(sigma, tf.tensor2d(J)), sigma), 1);
    return tf.neg(tf.add(tf.mul(0.5, pair), tf.sum(tf.mul(sigma, tf.tensor1d(h)), 1)));
  });

// A 2-site Potts-like energy over {0,1,2}²: E(a, b) = table[a][b].
const table = [
  [0.0, 1.0, 2.0],
  [0.5, -0.5, 1.5],
  [2.0, 0.3, -1.0],
];
const pottsTf = (x: tf.Tensor) =>
  tf.tidy(() => {
    const idx = tf.cast(
      tf.add(tf.mul(tf.slice(x, [0, 0], [-1, 1]), 3), tf.slice(x, [0, 1], [-1, 1])),
      'int32',
    );
    return tf.gather(tf.tensor1d(table.flat()), tf.reshape(idx, [-1]));
  });

function boltzmann(energies: number[]): number[] {
  const w = energies.map((e) => Math.exp(-e));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / z);
}

function totalVariation(samples: Float32Array, width: number, base: number, p: number[]): number {
  const counts = new Array(p.length).fill(0);
  const n = samples.length / width;
  for (let i = 0; i < n; i++) {
    let code = 0;
    for (let j = 0; j < width; j++) code = code * base + samples[i * width + j]!;
    counts[code]++;
  }
  return 0.5 * p.reduce((s, pi, k) => s + Math.abs(counts[k] / n - pi), 0);
}

const states3 = Array.from({ length: 8 }, (_, k) => [(k >> 2) & 1, (k >> 1) & 1, k & 1]);

describe('gibbs', () => {
  it('matches the exact energy of the test model', () => {
    const e = isingTf(tf.tensor2d(states3)).dataSync();
    states3.forEach((s, k) => expect(e[k]).toBeCloseTo(isingJs(s), 5));
  });

  it('reaches the exact Boltzmann distribution of a small Ising model (TV < 0.05)', () => {
    const chains = 6000;
    const init = tf.zeros([chains, 3]);
    const { samples, energies } = gibbs(isingTf, init, { sweeps: 20, seed: 3 });
    const tv = totalVariation(
      samples.dataSync() as Float32Array,
      3,
      2,
      boltzmann(states3.map(isingJs)),
    );
    expect(tv).toBeLessThan(0.05);
    expect(energies).toHaveLength(21);
    samples.dispose();
  });

  it('visits units in random order too, reproducibly from a seed', () => {
    const init = tf.ones([2000, 3]);
    const a = gibbs(isingTf, init, { sweeps: 15, order: 'random', seed: 9 });
    const b = gibbs(isingTf, init, { sweeps: 15, order: 'random', seed: 9 });
    expect(Array.from(a.samples.dataSync())).toEqual(Array.from(b.samples.dataSync()));
    expect(
      totalVariation(a.samples.dataSync() as Float32Array, 3, 2, boltzmann(states3.map(isingJs))),
    ).toBeLessThan(0.05);
    tf.dispose([a.samples, b.samples]);
  });

  it('rejects non-binary states and leaks nothing', async () => {
    expect(() => gibbs(isingTf, tf.tensor2d([[0, 2, 1]]))).toThrow(/integer states in \[0, 1\]/);
    expect(() => gibbs(isingTf, tf.tensor2d([[0, 0.5, 1]]))).toThrow(EbmError);
    const init = tf.zeros([4, 3]);
    await expectNoTensorLeak(() => gibbs(isingTf, init, { sweeps: 2, seed: 1 }).samples);
  });

  it('frees every tensor when the energy returns the wrong shape', () => {
    const init = tf.zeros([4, 3]);
    const wrong = (x: tf.Tensor) => tf.zeros([x.shape[0]!, 1]);
    const before = tf.memory().numTensors;
    expect(() => gibbs(wrong, init, { sweeps: 1, seed: 1 })).toThrow(/shape \[4\]/);
    expect(tf.memory().numTensors).toBe(before);
    init.dispose();
  });
});

describe('metropolisHastings', () => {
  it('reaches the exact Boltzmann distribution of binary and 3-state energies (TV < 0.05)', () => {
    const chains = 6000;
    const binary = metropolisHastings(isingTf, tf.zeros([chains, 3]), { steps: 60, seed: 4 });
    expect(
      totalVariation(
        binary.samples.dataSync() as Float32Array,
        3,
        2,
        boltzmann(states3.map(isingJs)),
      ),
    ).toBeLessThan(0.05);
    expect(binary.acceptanceRate).toBeGreaterThan(0.2);
    expect(binary.acceptanceRate).toBeLessThan(1);

    const potts = metropolisHastings(pottsTf, tf.zeros([chains, 2]), {
      steps: 60,
      numStates: 3,
      seed: 5,
    });
    expect(
      totalVariation(potts.samples.dataSync() as Float32Array, 2, 3, boltzmann(table.flat())),
    ).toBeLessThan(0.05);
    tf.dispose([binary.samples, potts.samples]);
  });

  it('accepts every proposal on a flat energy', () => {
    const flat = (x: tf.Tensor) => tf.zeros([x.shape[0]!]);
    const r = metropolisHastings(flat, tf.zeros([50, 4]), { steps: 10, seed: 1 });
    expect(r.acceptanceRate).toBe(1);
    r.samples.dispose();
  });

  it('rejects states out of range and leaks nothing', async () => {
    expect(() => metropolisHastings(pottsTf, tf.tensor2d([[0, 3]]), { numStates: 3 })).toThrow(
      /\[0, 2\]/,
    );
    expect(() => metropolisHastings(pottsTf, tf.tensor2d([[0, 1]]), { numStates: 1 })).toThrow(
      /numStates/,
    );
    const init = tf.zeros([4, 2]);
    await expectNoTensorLeak(
      () => metropolisHastings(pottsTf, init, { steps: 3, numStates: 3, seed: 2 }).samples,
    );
  });

  it('frees every tensor when the energy returns the wrong shape', () => {
    const init = tf.zeros([4, 2]);
    const wrong = (x: tf.Tensor) => tf.zeros([x.shape[0]!, 1]);
    const before = tf.memory().numTensors;
    let caught: unknown;
    try {
      metropolisHastings(wrong, init, { steps: 3, seed: 2 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EbmError);
    expect((caught as EbmError).code).toBe('SHAPE_MISMATCH');
    expect(tf.memory().numTensors).toBe(before);
    init.dispose();
  });
});
