import { resolveOptions } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import { assertBinaryBatch, flipEnergyGaps } from './binary-neighbours.js';
import type { EnergyFn } from './checks.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

/** A loss on a batch of binary data [n, d] (0/1 as float32) for a fixed energy. */
export type BinaryDataLoss = (data: tf.Tensor) => tf.Scalar;

export interface RatioMatchingOptions {
  /** Reduces the per-sample terms. Default mean (Hyvärinen's expectation over the data). */
  reducer?: Reducer;
}

/**
 * Ratio matching (Hyvärinen 2007) for binary data: with g(u) = 1/(1 + u) and the probability
 * ratios p(x)/p(x̄ʲ) = exp(E(x̄ʲ) − E(x)) to the d single-bit flips x̄ʲ,
 *   J = mean_x Σ_j g(p(x)/p(x̄ʲ))² = mean_x Σ_j σ(E(x) − E(x̄ʲ))².
 * Only energy differences enter, so the partition function is never needed.
 * `energy` maps [m, d] states to [m] energies; flatten images to [n, d] first.
 */
export function ratioMatching(
  energy: EnergyFn,
  options: RatioMatchingOptions = {},
): BinaryDataLoss {
  const { reducer } = resolveOptions('ratioMatching', options, { reducer: mean() });
  assertReducer(reducer, 'ratioMatching: reducer');
  return (data) => {
    assertBinaryBatch(energy, data, 'ratioMatching');
    return tf.tidy(() => {
      const gaps = flipEnergyGaps(energy, data, 'ratioMatching');
      return reducer.reduce(tf.sum(tf.square(tf.sigmoid(gaps)), 1));
    });
  };
}
