import { resolveOptions } from '@ebmjs/contract';
import { EbmError, ops } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertBinaryBatch, flipEnergyGaps } from './binary-neighbours.js';
import type { EnergyFn } from './checks.js';
import type { BinaryDataLoss } from './ratio-matching.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

export interface MinimumProbabilityFlowOptions {
  /**
   * Return log K = log mean_x Σ_j exp(·) instead of K: the same minimiser, and finite for
   * any energy gap (K overflows float32 once a gap exceeds about 176). Default false.
   */
  log?: boolean;
  /** Reduces the per-sample flows (not with `log`). Default mean. */
  reducer?: Reducer;
}

/**
 * Minimum probability flow (Sohl-Dickstein, Battaglino & DeWeese 2011) with single-bit-flip
 * connectivity: the initial flow of probability out of the data under dynamics that converge
 * to the model,
 *   K = mean_x Σ_j exp((E(x) − E(x̄ʲ)) / 2).
 * Flips that land on other data states are kept (the empirical-distribution form): the
 * symmetric connectivity keeps the objective consistent, and small models where most states
 * occur in the data do not lose their objective.
 */
export function minimumProbabilityFlow(
  energy: EnergyFn,
  options: MinimumProbabilityFlowOptions = {},
): BinaryDataLoss {
  const o = resolveOptions('minimumProbabilityFlow', options, { log: false, reducer: undefined });
  const { log } = o;
  if (log && o.reducer !== undefined) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      'minimumProbabilityFlow: log: true returns log of the mean flow and takes no reducer.',
    );
  }
  const reducer = o.reducer ?? mean();
  assertReducer(reducer, 'minimumProbabilityFlow: reducer');
  return (data) => {
    assertBinaryBatch(energy, data, 'minimumProbabilityFlow');
    return tf.tidy(() => {
      const half = tf.mul(flipEnergyGaps(energy, data, 'minimumProbabilityFlow'), 0.5);
      if (!log) return reducer.reduce(tf.sum(tf.exp(half), 1));
      return tf.sub(
        ops.logSumExp(tf.reshape(half, [-1]), 0),
        Math.log(data.shape[0]!),
      ) as tf.Scalar;
    });
  };
}
