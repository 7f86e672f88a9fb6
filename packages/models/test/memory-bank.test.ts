import { EbmError } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { MemoryBank } from '../src/index.js';
import { norms } from './helpers.js';

useCpuBackend();

const rows = (t: tf.Tensor) => t.arraySync() as number[][];
const normalize = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe('MemoryBank', () => {
  it('holds one seeded random unit vector per item', () => {
    const bank = new MemoryBank({ size: 10, dim: 4, seed: 1 });
    expect(bank.bank().shape).toEqual([10, 4]);
    expectClose(norms(bank.bank()), new Array(10).fill(1), { atol: 1e-5 });
    const same = new MemoryBank({ size: 10, dim: 4, seed: 1 });
    expect(rows(same.bank())).toEqual(rows(bank.bank()));
    const got = bank.get([3, 0, 3]);
    expect(rows(got)).toEqual([rows(bank.bank())[3], rows(bank.bank())[0], rows(bank.bank())[3]]);
    got.dispose();
    bank.dispose();
    same.dispose();
  });

  it('updates m ← normalize(μ·m + (1 − μ)·v) for the given items only', () => {
    const bank = new MemoryBank({ size: 6, dim: 3, momentum: 0.7, seed: 2 });
    const before = rows(bank.bank());
    const v = [
      [1, 2, 3],
      [-1, 0.5, 0],
    ];
    bank.update([4, 1], tf.tensor2d(v));
    const after = rows(bank.bank());
    [4, 1].forEach((item, r) => {
      const expected = normalize(before[item]!.map((m, j) => 0.7 * m + 0.3 * v[r]![j]!));
      expectClose(after[item]!, expected, { atol: 1e-6 });
    });
    for (const item of [0, 2, 3, 5]) expect(after[item]).toEqual(before[item]);
    expectClose(norms(bank.bank()), new Array(6).fill(1), { atol: 1e-5 });
    bank.dispose();
  });

  it('lets the last row win when an item repeats in a batch', () => {
    const bank = new MemoryBank({ size: 4, dim: 2, momentum: 0 });
    bank.update(
      Int32Array.from([2, 2]),
      tf.tensor2d([
        [1, 0],
        [0, 5],
      ]),
    );
    expectClose(rows(bank.bank())[2]!, [0, 1], { atol: 1e-6 });
    bank.dispose();
  });

  it('draws negatives uniformly from the other items, never the item itself', () => {
    const size = 5;
    const bank = new MemoryBank({ size, dim: 3, seed: 4 });
    const items = [0, 2, 4];
    const k = 400;
    const { negatives, indices } = bank.negatives(items, k);
    expect(negatives.shape).toEqual([3, k, 3]);
    const all = rows(bank.bank());
    const neg = negatives.arraySync() as number[][][];
    items.forEach((self, r) => {
      const counts = new Array(size).fill(0);
      for (let j = 0; j < k; j++) {
        const picked = indices[r * k + j]!;
        counts[picked]++;
        expect(neg[r]![j]).toEqual(all[picked]);
      }
      expect(counts[self]).toBe(0);
      // each of the 4 others ~ k/4 = 100 draws (binomial sd ≈ 8.7)
      for (let o = 0; o < size; o++)
        if (o !== self) expect(Math.abs(counts[o] - k / 4)).toBeLessThan(40);
    });
    // seeded: a twin bank draws the same negatives
    const twin = new MemoryBank({ size, dim: 3, seed: 4 });
    expect(Array.from(twin.negatives(items, k).indices)).toEqual(Array.from(indices));
    // and successive draws differ
    expect(Array.from(bank.negatives(items, k).indices)).not.toEqual(Array.from(indices));
    negatives.dispose();
    bank.dispose();
    twin.dispose();
  });

  it('validates indices and shapes, and leaks nothing', async () => {
    const bank = new MemoryBank({ size: 8, dim: 3 });
    expect(() => bank.get([8])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => bank.get([1.5])).toThrow(EbmError);
    expect(() => bank.update([1, 2], tf.ones([3, 3]))).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => new MemoryBank({ size: 1, dim: 2 }).negatives([0], 1)).toThrow(
      expect.objectContaining({ code: 'BATCH_TOO_SMALL' }),
    );
    const v = tf.ones([2, 3]);
    const idx = tf.tensor1d([1, 5], 'int32');
    await expectNoTensorLeak(() => bank.update(idx, v), 5);
    await expectNoTensorLeak(() => bank.negatives([1, 5], 7));
    await expectNoTensorLeak(() => bank.get(idx));
    bank.dispose();
  });
});
