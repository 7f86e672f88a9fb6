import { EbmError } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { isGreater } from './masked.js';

/**
 * Turns per-element losses (per anchor, pair or triplet) into the scalar loss, as
 * pytorch-metric-learning's reducers do. `mask` (same shape, 1 = counts) marks which
 * elements exist: a triplet tensor [n, n, n] holds many invalid (a, p, n) combinations.
 */
export interface Reducer {
  readonly name: string;
  reduce(losses: tf.Tensor, mask?: tf.Tensor): tf.Scalar;
}

function masked(losses: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  return mask === undefined
    ? losses
    : tf.where(tf.cast(isGreater(mask, 0), 'bool'), losses, tf.zerosLike(losses));
}

function count(mask: tf.Tensor | undefined, losses: tf.Tensor): tf.Tensor {
  return mask === undefined ? tf.scalar(losses.size) : tf.sum(isGreater(mask, 0));
}

/** Mean over the counted elements; 0 when there are none. */
export function mean(): Reducer {
  return {
    name: 'mean',
    reduce: (losses, mask) =>
      tf.tidy(
        () => tf.div(tf.sum(masked(losses, mask)), tf.maximum(count(mask, losses), 1)) as tf.Scalar,
      ),
  };
}

/** Sum over the counted elements. */
export function sum(): Reducer {
  return {
    name: 'sum',
    reduce: (losses, mask) => tf.tidy(() => tf.sum(masked(losses, mask)) as tf.Scalar),
  };
}

/**
 * Mean over the elements whose loss is > 0 (pytorch-metric-learning's AvgNonZeroReducer):
 * triplets already beyond the margin do not dilute the ones still violating it.
 */
export function meanNonZero(): Reducer {
  return {
    name: 'meanNonZero',
    reduce: (losses, mask) =>
      tf.tidy(() => {
        const l = masked(losses, mask);
        const nonZero = tf.sum(isGreater(l, 0));
        return tf.div(tf.sum(l), tf.maximum(nonZero, 1)) as tf.Scalar;
      }),
  };
}

export function assertReducer(reducer: unknown, what: string): asserts reducer is Reducer {
  const r = reducer as Partial<Reducer> | null;
  if (r === null || typeof r !== 'object' || typeof r.reduce !== 'function') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be a reducer such as reducers.mean(), received ${typeof reducer}.`,
      { argument: what },
    );
  }
}
