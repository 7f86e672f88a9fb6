import { EbmError } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { NegativeQueue } from '../src/index.js';
import { norms } from './helpers.js';

useCpuBackend();

/** Rows [[v, v], ...] for v in values, so a key's content says when it was enqueued. */
const batch = (...values: number[]) => tf.tensor2d(values.map((v) => [v, -v]));
const firstColumn = (t: tf.Tensor) => (t.arraySync() as number[][]).map((r) => r[0]);

describe('NegativeQueue', () => {
  it('starts with seeded random unit keys (or zeros)', () => {
    const a = new NegativeQueue({ size: 6, dim: 4, seed: 3 });
    const b = new NegativeQueue({ size: 6, dim: 4, seed: 3 });
    const c = new NegativeQueue({ size: 6, dim: 4, seed: 4 });
    expect(a.keys().shape).toEqual([6, 4]);
    expectClose(norms(a.keys()), [1, 1, 1, 1, 1, 1], { atol: 1e-5 });
    expect(Array.from(a.keys().dataSync())).toEqual(Array.from(b.keys().dataSync()));
    expect(Array.from(a.keys().dataSync())).not.toEqual(Array.from(c.keys().dataSync()));
    const z = new NegativeQueue({ size: 3, dim: 2, init: 'zeros' });
    expect(Array.from(z.keys().dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expect([a.pointer, a.count]).toEqual([0, 0]);
    for (const q of [a, b, c, z]) q.dispose();
  });

  it('enqueues FIFO at the pointer and wraps around, overwriting the oldest keys', () => {
    const q = new NegativeQueue({ size: 5, dim: 2, init: 'zeros' });
    q.enqueue(batch(1, 2, 3));
    expect(firstColumn(q.keys())).toEqual([1, 2, 3, 0, 0]);
    expect([q.pointer, q.count]).toEqual([3, 3]);
    q.enqueue(batch(4, 5, 6)); // 6 wraps to row 0 and evicts 1
    expect(firstColumn(q.keys())).toEqual([6, 2, 3, 4, 5]);
    expect([q.pointer, q.count]).toEqual([1, 5]);
    const ordered = q.ordered();
    expect(firstColumn(ordered)).toEqual([2, 3, 4, 5, 6]);
    q.enqueue(batch(7, 8, 9, 10)); // fills rows 1..4
    expect(firstColumn(q.keys())).toEqual([6, 7, 8, 9, 10]);
    expect(q.pointer).toBe(0);
    q.enqueue(batch(11));
    expect(firstColumn(q.keys())).toEqual([11, 7, 8, 9, 10]);
    // the second column came along with the first
    expect((q.keys().arraySync() as number[][]).map((r) => r[1])).toEqual([-11, -7, -8, -9, -10]);
    ordered.dispose();
    q.dispose();
  });

  it('keeps only the newest `size` keys of an oversized batch', () => {
    const q = new NegativeQueue({ size: 4, dim: 2, init: 'zeros' });
    q.enqueue(batch(1));
    q.enqueue(batch(2, 3, 4, 5, 6, 7)); // as if enqueued one by one from pointer 1
    expect(firstColumn(q.ordered())).toEqual([4, 5, 6, 7]);
    expect(q.pointer).toBe((1 + 6) % 4);
    expect(firstColumn(q.keys())).toEqual([5, 6, 7, 4]);
    q.dispose();
  });

  it('stores detached copies: keys() is a live, non-trainable view', () => {
    const q = new NegativeQueue({ size: 3, dim: 2, init: 'zeros' });
    const view = q.keys();
    const k = batch(1, 2);
    q.enqueue(k);
    k.dispose(); // the queue owns a copy
    expect(firstColumn(view)).toEqual([1, 2, 0]);
    expect((view as tf.Variable).trainable).toBe(false);
    // a gradient taken through the keys does not reach the enqueued tensor's source
    const src = tf.variable(tf.ones([1, 2]));
    const g = tf.grads((s: tf.Tensor) => {
      q.enqueue(tf.mul(s, 3));
      return tf.sum(tf.mul(s, 2)) as tf.Scalar;
    })([src]);
    expect(Array.from(g[0]!.dataSync())).toEqual([2, 2]);
    expect(firstColumn(q.keys())).toEqual([1, 2, 3]);
    q.dispose();
  });

  it('validates keys and leaks nothing', async () => {
    const q = new NegativeQueue({ size: 8, dim: 3 });
    expect(() => q.enqueue(tf.ones([2, 4]))).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => q.enqueue(tf.ones([3]))).toThrow(
      expect.objectContaining({ code: 'INVALID_RANK' }),
    );
    expect(() => q.enqueue(tf.tensor2d([[Number.NaN, 0, 0]]))).toThrow(
      expect.objectContaining({ code: 'NON_FINITE' }),
    );
    expect(() => new NegativeQueue({ size: 0, dim: 3 })).toThrow(EbmError);
    const k = tf.ones([3, 3]);
    await expectNoTensorLeak(() => q.enqueue(k), 5);
    await expectNoTensorLeak(() => q.ordered());
    q.dispose();
    expect(() => q.keys()).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });
});
