import * as tf from '@tensorflow/tfjs-core';
import * as ops from './ops.js';
import { assertFloatTensor, assertNumber, assertSameDim, resolveAxis } from './validate.js';

/**
 * Stable log Σ exp(x) along `axis` (default: the last). The max is subtracted first, so large
 * finite mask values such as -1e9 are safe and never produce NaN.
 */
export function logSumExp(x: tf.Tensor, axis = -1, keepDims = false): tf.Tensor {
  assertFloatTensor(x, [1, 2, 3, 4, 5, 6], 'logSumExp: x');
  const ax = resolveAxis(axis, x.rank, 'logSumExp: axis');
  return tf.tidy(() => ops.logSumExp(x, ax, keepDims));
}

/** x / max(‖x‖₂, eps) along `axis` (default: the last). Zero vectors stay zero. */
export function l2Normalize(x: tf.Tensor, axis = -1, eps = 1e-12): tf.Tensor {
  assertFloatTensor(x, [1, 2, 3, 4, 5, 6], 'l2Normalize: x');
  const ax = resolveAxis(axis, x.rank, 'l2Normalize: axis');
  assertNumber(eps, 'l2Normalize: eps', { min: 0, exclusiveMin: true });
  return tf.tidy(() => ops.l2Normalize(x, ax, eps));
}

/**
 * All-pairs cosine similarity: S[i, j] = cos(a_i, b_j) for a: [n, d] and b: [m, d]
 * (b defaults to a). Returns [n, m].
 */
export function cosineSimilarityMatrix(a: tf.Tensor, b?: tf.Tensor): tf.Tensor2D {
  assertFloatTensor(a, 2, 'cosineSimilarityMatrix: a');
  if (b !== undefined) {
    assertFloatTensor(b, 2, 'cosineSimilarityMatrix: b');
    assertSameDim(a, 1, 'cosineSimilarityMatrix: a', b, 1, 'cosineSimilarityMatrix: b');
  }
  return tf.tidy(() => ops.cosineSimilarityMatrix(a as tf.Tensor2D, b as tf.Tensor2D | undefined));
}
