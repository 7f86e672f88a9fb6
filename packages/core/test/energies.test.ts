import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EbmError, energies } from '../src/index.js';

useCpuBackend();

const xs = [
  [1, 0],
  [2, 2],
  [0, -3],
];
const ys = [
  [0, 1],
  [1, 1],
  [0, 2],
];
const dotJs = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const norm = (a: number[]) => Math.sqrt(dotJs(a, a));
const handEnergies: Record<string, (a: number[], b: number[]) => number> = {
  cosine: (a, b) => -dotJs(a, b) / (norm(a) * norm(b)),
  dot: (a, b) => -dotJs(a, b),
  squaredEuclidean: (a, b) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0),
};

describe.each(Object.keys(handEnergies))('energies.%s', (name) => {
  const make = energies[name as 'cosine' | 'dot' | 'squaredEuclidean'];
  const hand = handEnergies[name]!;

  it('maps paired batches to one energy per row, divided by the temperature', () => {
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys);
    expectClose(
      make().paired(x, y).dataSync(),
      xs.map((a, i) => hand(a, ys[i]!)),
      { atol: 1e-5 },
    );
    expectClose(
      make({ temperature: 0.5 }).paired(x, y).dataSync(),
      xs.map((a, i) => hand(a, ys[i]!) / 0.5),
      { atol: 1e-5 },
    );
  });

  it('maps two sets to the all-pairs matrix', () => {
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys.slice(0, 2));
    const e = make().pairwise(x, y);
    expect(e.shape).toEqual([3, 2]);
    expectClose(
      e.dataSync(),
      xs.flatMap((a) => ys.slice(0, 2).map((b) => hand(a, b))),
      { atol: 1e-5 },
    );
  });

  it('has gradients equal to finite differences', () => {
    const y = tf.tensor2d(ys);
    checkGradient(
      (x) => tf.sum(make({ temperature: 0.7 }).pairwise(x, y)) as tf.Scalar,
      tf.tensor2d(xs),
    );
  });

  it('rejects wrong rank, mismatched batch, NaN and non-float inputs', () => {
    const energy = make();
    const expectCode = (call: () => unknown, code: string, message?: RegExp) => {
      try {
        call();
        expect.fail('expected an EbmError');
      } catch (error) {
        expect(error).toBeInstanceOf(EbmError);
        expect((error as EbmError).code).toBe(code);
        if (message) expect((error as EbmError).message).toMatch(message);
      }
    };
    expectCode(
      () => energy.paired(tf.zeros([3]), tf.zeros([3, 2])),
      'INVALID_RANK',
      /rank 2, received rank 1/,
    );
    expectCode(
      () => energy.paired(tf.zeros([3, 2]), tf.zeros([4, 2])),
      'SHAPE_MISMATCH',
      /\[3, 2\].*\[4, 2\]/,
    );
    expectCode(() => energy.pairwise(tf.zeros([3, 2]), tf.zeros([4, 5])), 'SHAPE_MISMATCH');
    expectCode(() => energy.paired(tf.tensor2d([[Number.NaN, 1]]), tf.zeros([1, 2])), 'NON_FINITE');
    expectCode(
      () => energy.paired(tf.zeros([1, 2], 'int32'), tf.zeros([1, 2])),
      'INVALID_DTYPE',
      /float32, received int32/,
    );
    expectCode(
      () => make({ temperature: 0 }),
      'INVALID_ARGUMENT',
      /temperature must be a finite number > 0/,
    );
  });
});

describe('energies.cosine', () => {
  it('is invariant to rescaling either input (the reason the lecture prefers it to L2)', () => {
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys);
    const e = energies.cosine();
    expectClose(e.paired(tf.mul(x, 1e3), tf.mul(y, 1e-2)).dataSync(), e.paired(x, y).dataSync(), {
      atol: 1e-5,
    });
  });
});

describe('energies.bilinear', () => {
  it('computes −xᵀWy/τ with the given W and starts as the dot energy with identity', () => {
    const w = tf.tensor2d([
      [1, 2, 0],
      [0, -1, 3],
    ]);
    const e = energies.bilinear({ xDim: 2, yDim: 3, init: w, temperature: 2 });
    const x = tf.tensor2d([
      [1, 1],
      [2, -1],
    ]);
    const y = tf.tensor2d([
      [1, 0, 1],
      [0, 1, 1],
    ]);
    // x W = [[1, 1, 3], [2, 5, -3]]
    expectClose(e.paired(x, y).dataSync(), [-(1 + 3) / 2, -(5 - 3) / 2], { atol: 1e-6 });
    expectClose(e.pairwise(x, y).dataSync(), [-4 / 2, -4 / 2, -(2 - 3) / 2, -2 / 2], {
      atol: 1e-6,
    });

    const identity = energies.bilinear({ xDim: 2 });
    expectClose(identity.paired(x, x).dataSync(), energies.dot().paired(x, x).dataSync());
    identity.dispose();
    e.dispose();
  });

  it('exposes W as a trainable variable whose gradient matches finite differences', () => {
    const e = energies.bilinear({ xDim: 2, yDim: 2, init: 'normal', seed: 3 });
    expect(e.trainableVariables).toHaveLength(1);
    expect(e.trainableVariables[0]!.trainable).toBe(true);
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys.map((r) => r));
    const grads = tf.variableGrads(() => tf.sum(e.paired(x, y)) as tf.Scalar, [e.weight]);
    // ∂/∂W Σ_i −x_iᵀ W y_i = −Σ_i x_i y_iᵀ
    const expected = [0, 0, 0, 0];
    xs.forEach((a, i) => {
      for (let r = 0; r < 2; r++)
        for (let c = 0; c < 2; c++) expected[r * 2 + c]! -= a[r]! * ys[i]![c]!;
    });
    expectClose(grads.grads[e.weight.name]!.dataSync(), expected, { atol: 1e-5 });
    e.dispose();
    expect(() => e.paired(x, y)).toThrow(/disposed/);
  });

  it('validates its dimensions', () => {
    expect(() => energies.bilinear({ xDim: 2, yDim: 3, init: 'identity' })).toThrow(
      /xDim === yDim/,
    );
    const e = energies.bilinear({ xDim: 2, yDim: 3 });
    expect(() => e.paired(tf.zeros([1, 3]), tf.zeros([1, 3]))).toThrow(
      /x: \[n, 2\] and y: \[m, 3\]/,
    );
    e.dispose();
  });
});

describe('memory', () => {
  it('frees every intermediate tensor', async () => {
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 7);
    const b = energies.bilinear({ xDim: 4 });
    await expectNoTensorLeak(() =>
      [energies.cosine(), energies.dot(), energies.squaredEuclidean(), b].flatMap((e) => [
        e.paired(x, x),
        e.pairwise(x, x),
      ]),
    );
    b.dispose();
  });
});
