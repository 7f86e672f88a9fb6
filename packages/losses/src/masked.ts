import { ops } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * log Σ exp(x) over the entries where `keep` is true, along `axis`. Masked entries are
 * *replaced* by −MASK_VALUE (not offset by it), so a masked self-similarity of +1e8 cannot
 * survive, and no −Infinity or NaN ever enters the graph; their gradient is exactly zero.
 */
export function maskedLogSumExp(x: tf.Tensor, keep: tf.Tensor, axis: number): tf.Tensor {
  const filled = tf.where(keep, x, tf.fill(x.shape, -ops.MASK_VALUE));
  return ops.logSumExp(filled, axis);
}

/**
 * log(exp(a) + exp(b)) = a + softplus(b − a), elementwise and stable. Written without
 * tf.maximum: its gradient does not reduce broadcast shapes in tfjs 4.22.
 */
export function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(a, tf.softplus(tf.sub(b, a)));
}

/** [n, n] boolean, true off the diagonal. */
export function offDiagonal(n: number): tf.Tensor2D {
  return tf.logicalNot(tf.cast(tf.eye(n), 'bool')) as tf.Tensor2D;
}

/**
 * a > b as 0/1 float32 through tf.step, for conditions that depend on a differentiated input:
 * tfjs 4.22 registers no gradient for Greater, Less, Equal, LogicalAnd or Any, so a boolean op
 * on the tape throws in tf.grad even though the condition itself needs no gradient.
 */
export function isGreater(a: tf.Tensor | number, b: tf.Tensor | number): tf.Tensor {
  return tf.step(tf.sub(a, b));
}
