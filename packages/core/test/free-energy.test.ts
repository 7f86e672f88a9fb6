import { checkGradient, expectClose, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EbmError, freeEnergy } from '../src/index.js';

useCpuBackend();

const E = [
  [0.5, 2, 1.25, 3],
  [-1, -1, 4, 0],
];
const direct = (row: number[], beta: number) =>
  (-1 / beta) * Math.log(row.reduce((s, e) => s + Math.exp(-beta * e), 0));

describe('freeEnergy', () => {
  it('equals −(1/β) log Σ exp(−βE) over the latent axis', () => {
    for (const beta of [0.1, 1, 3]) {
      expectClose(
        freeEnergy(tf.tensor2d(E), { beta }).dataSync(),
        E.map((r) => direct(r, beta)),
        { atol: 1e-5 },
      );
    }
    const cols = [0, 1, 2, 3].map((j) => E.map((r) => r[j]!));
    expectClose(
      freeEnergy(tf.tensor2d(E), { axis: 0 }).dataSync(),
      cols.map((c) => direct(c, 1)),
      { atol: 1e-5 },
    );
  });

  it('tends to the minimum over the latent as β grows, from below', () => {
    const mins = E.map((r) => Math.min(...r));
    let previousGap = Number.POSITIVE_INFINITY;
    for (const beta of [1, 10, 100, 1e4]) {
      const f = Array.from(freeEnergy(tf.tensor2d(E), { beta }).dataSync());
      const gap = Math.max(...f.map((v, i) => mins[i]! - v));
      // F_β ≤ min E always (the sum includes the minimum term), and the gap shrinks like log(k)/β.
      f.forEach((v, i) => expect(v).toBeLessThanOrEqual(mins[i]! + 1e-6));
      expect(gap).toBeLessThan(previousGap);
      expect(gap).toBeLessThanOrEqual(Math.log(4) / beta + 1e-5);
      previousGap = gap;
    }
    expectClose(
      freeEnergy(tf.tensor2d(E), { beta: 1e4 }).dataSync(),
      [0.5, -1 - Math.log(2) / 1e4],
      { atol: 1e-4 },
    );
  });

  it('stays finite for energies of magnitude 1e6', () => {
    const f = freeEnergy(tf.tensor1d([1e6, 1e6 + 1]), { beta: 10 }).dataSync();
    expect(Number.isFinite(f[0])).toBe(true);
    expectClose(f, [1e6], { atol: 0.1 });
  });

  it('has as gradient the Boltzmann distribution over the latent', () => {
    checkGradient((e) => tf.sum(freeEnergy(e, { beta: 2 })) as tf.Scalar, tf.tensor2d(E));
    const g = tf
      .grad((e: tf.Tensor) => tf.sum(freeEnergy(e)))(tf.tensor2d(E))
      .dataSync();
    const z = E[0]!.reduce((s, e) => s + Math.exp(-e), 0);
    expectClose(
      g.slice(0, 4),
      E[0]!.map((e) => Math.exp(-e) / z),
      { atol: 1e-6 },
    );
  });

  it('rejects a non-positive β and a bad axis', () => {
    expect(() => freeEnergy(tf.tensor1d([1, 2]), { beta: 0 })).toThrow(EbmError);
    expect(() => freeEnergy(tf.tensor1d([1, 2]), { beta: -1 })).toThrow(
      /beta must be a finite number > 0, received -1/,
    );
    expect(() => freeEnergy(tf.tensor1d([1, 2]), { axis: 1 })).toThrow(/axis 1 is out of range/);
  });
});
