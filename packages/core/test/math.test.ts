import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { cosineSimilarityMatrix, EbmError, l2Normalize, logSumExp } from '../src/index.js';

useCpuBackend();

describe('logSumExp', () => {
  it('matches a direct computation along either axis', () => {
    const rows = [
      [1, 2, 3],
      [-4, 0.5, 2],
    ];
    const x = tf.tensor2d(rows);
    const direct = (v: number[]) => Math.log(v.reduce((s, a) => s + Math.exp(a), 0));
    expectClose(logSumExp(x).dataSync(), rows.map(direct), { atol: 1e-5 });
    const cols = [0, 1, 2].map((j) => rows.map((r) => r[j]!));
    expectClose(logSumExp(x, 0).dataSync(), cols.map(direct), { atol: 1e-5 });
    expect(logSumExp(x, 1, true).shape).toEqual([2, 1]);
  });

  it('is exact for large finite masks and huge magnitudes', () => {
    const x = tf.tensor2d([
      [-1e9, 0, 0],
      [1e4, 1e4, -1e9],
    ]);
    expectClose(logSumExp(x).dataSync(), [Math.log(2), 1e4 + Math.log(2)], { atol: 1e-3 });
  });

  it('has the softmax as its gradient', () => {
    const x = tf.tensor1d([0.3, -1.2, 2.0, 0.7]);
    checkGradient((v) => logSumExp(v) as tf.Scalar, x);
  });
});

describe('l2Normalize', () => {
  it('gives unit rows, keeps zero rows at zero, and is stable at norm 1e3', () => {
    const x = tf.tensor2d([
      [3, 4],
      [0, 0],
      [600, 800],
    ]);
    expectClose(l2Normalize(x).dataSync(), [0.6, 0.8, 0, 0, 0.6, 0.8], { atol: 1e-6 });
  });

  it('normalises along a chosen axis', () => {
    const x = tf.tensor2d([
      [3, 1],
      [4, 0],
    ]);
    expectClose(l2Normalize(x, 0).dataSync(), [0.6, 1, 0.8, 0], { atol: 1e-6 });
  });

  it('has the gradient of x/‖x‖', () => {
    const x = tf.tensor2d([
      [0.5, -1.5, 2],
      [1, 0.2, -0.3],
    ]);
    const w = tf.tensor2d([
      [1, 2, 3],
      [-1, 0.5, 2],
    ]);
    checkGradient((v) => tf.sum(tf.mul(l2Normalize(v), w)) as tf.Scalar, x);
  });
});

describe('cosineSimilarityMatrix', () => {
  it('equals hand-computed cosines for two sets', () => {
    const a = tf.tensor2d([
      [1, 0],
      [1, 1],
    ]);
    const b = tf.tensor2d([
      [0, 2],
      [-3, 0],
      [1, 1],
    ]);
    const s = Math.SQRT1_2;
    expectClose(cosineSimilarityMatrix(a, b).dataSync(), [0, -1, s, s, -s, 1], { atol: 1e-6 });
    expect(cosineSimilarityMatrix(a).shape).toEqual([2, 2]);
    expectClose(cosineSimilarityMatrix(a).dataSync(), [1, s, s, 1], { atol: 1e-6 });
  });

  it('rejects mismatched feature dimensions with a message naming both shapes', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([2, 4]);
    expect(() => cosineSimilarityMatrix(a, b)).toThrow(/\[2, 3\].*\[2, 4\]/);
  });
});

describe('input validation', () => {
  it('rejects wrong rank, NaN, integer dtype and non-tensors with EbmError codes', () => {
    const cases: [() => unknown, string][] = [
      [() => cosineSimilarityMatrix(tf.zeros([3])), 'INVALID_RANK'],
      [() => l2Normalize(tf.tensor1d([1, Number.NaN])), 'NON_FINITE'],
      [() => logSumExp(tf.tensor1d([1, 2], 'int32')), 'INVALID_DTYPE'],
      [() => logSumExp([1, 2] as unknown as tf.Tensor), 'INVALID_ARGUMENT'],
      [() => logSumExp(tf.zeros([2, 2]), 2), 'INVALID_ARGUMENT'],
    ];
    for (const [call, code] of cases) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EbmError);
      expect((caught as EbmError).code).toBe(code);
    }
  });

  it('names the received rank and shape', () => {
    expect(() => cosineSimilarityMatrix(tf.zeros([2, 2, 2]))).toThrow(
      'cosineSimilarityMatrix: a must have rank 2, received rank 3 with shape [2, 2, 2].',
    );
  });
});

describe('memory', () => {
  it('leaks no tensors across repeated calls', async () => {
    const a = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
    await expectNoTensorLeak(() => [logSumExp(a), l2Normalize(a), cosineSimilarityMatrix(a, a)]);
  });
});
