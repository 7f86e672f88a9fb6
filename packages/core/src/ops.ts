import * as tf from '@tensorflow/tfjs-core';

/**
 * Unchecked tensor kernels. The validated public functions (`logSumExp`, `l2Normalize`,
 * `cosineSimilarityMatrix`, ...) check their input once and call these; code that has already
 * validated its tensors (losses, samplers, models) calls these directly so a training step
 * does not scan the same tensor for NaN twice. Callers own tidy scopes.
 */

/** Stable log Σ exp(x) along a resolved, non-negative `axis`. */
export function logSumExp(x: tf.Tensor, axis: number, keepDims = false): tf.Tensor {
  // Shifting by the max keeps exp() in range. The shift's own gradient cancels exactly
  // (∂/∂m [log Σ exp(x − m) + m] = 0), so it needs no special treatment.
  const m = tf.max(x, axis, true);
  const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(x, m)), axis, true)), m);
  return keepDims ? lse : tf.squeeze(lse, [axis]);
}

/** x / max(‖x‖₂, eps) along `axis`. */
export function l2Normalize(x: tf.Tensor, axis = -1, eps = 1e-12): tf.Tensor {
  const sq = tf.sum(tf.square(x), axis, true);
  return tf.mul(x, tf.rsqrt(tf.maximum(sq, eps * eps)));
}

/** [n, d] × [m, d] → [n, m] cosine similarities. */
export function cosineSimilarityMatrix(a: tf.Tensor2D, b: tf.Tensor2D = a): tf.Tensor2D {
  const an = l2Normalize(a);
  const bn = b === a ? an : l2Normalize(b);
  return tf.matMul(an, bn, false, true);
}

/** Row-wise cosine similarity of paired [n, d] batches → [n]. */
export function pairedCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(l2Normalize(a), l2Normalize(b)), 1);
}

/** [n, d] × [m, d] → [n, m] squared Euclidean distances, clamped at 0 against rounding. */
export function squaredDistanceMatrix(a: tf.Tensor2D, b: tf.Tensor2D = a): tf.Tensor2D {
  const a2 = tf.sum(tf.square(a), 1, true);
  const b2 = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]);
  const ab = tf.matMul(a, b, false, true);
  return tf.relu(tf.sub(tf.add(a2, b2), tf.mul(ab, 2))) as tf.Tensor2D;
}

/** A large finite value used for masks: exp(-MASK) underflows to 0 but never makes NaN. */
export const MASK_VALUE = 1e9;
