import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it } from 'vitest';
import { cosineSimilarityMatrix, EbmError, l2Normalize, logSumExp } from '../src/index.js';

useCpuBackend();

describe('logSumExp', () => {
  it('matches a direct computation and survives large finite masks', () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [-1e9, 0, 0],
    ]);
    const out = logSumExp(x).arraySync() as number[];
    expect(out[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 5);
    expect(out[1]).toBeCloseTo(Math.log(2), 6);
  });
});
