import { resolveOptions } from '@ebmjs/contract';
import { ops } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { assertTargets, type LabelsLike, targetsOneHot } from './labels.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

export interface NegativeLogLikelihoodOptions {
  /** Inverse temperature β > 0. Default 1. */
  beta?: number;
  /** Reduces the per-example losses. Default mean. */
  reducer?: Reducer;
}

/**
 * energies [B, K]: E(x_b, y) for each of K candidate answers; targets [B]: the index of the
 * correct answer of each example.
 */
export type AnswerEnergyLoss = (energies: tf.Tensor, targets: LabelsLike) => tf.Scalar;

/** Validates an energies [B, K] / targets [B] pair; returns K. */
export function assertAnswerEnergies(
  energies: unknown,
  targets: unknown,
  where: string,
): asserts energies is tf.Tensor2D {
  assertFloatInput(energies, 2, `${where}: energies`);
  const [b, k] = energies.shape as [number, number];
  assertAtLeast(b, 1, `${where}: batch size`, 'the batch is empty.');
  assertAtLeast(
    k,
    2,
    `${where}: number of answers`,
    'the loss contrasts the correct answer with incorrect ones.',
  );
  assertTargets(targets, b, k, `${where}: targets`);
}

/**
 * Maximum likelihood over a discrete answer set (LeCun et al. 2006, eq. 14): with the Gibbs
 * distribution p(y|x) = exp(−βE(x,y)) / Σ_y' exp(−βE(x,y')),
 *   ℓ = E(x, y*) + (1/β) log Σ_y exp(−β E(x, y)),
 * i.e. −(1/β) log p(y*|x). The partition sum uses a stable log-sum-exp.
 */
export function negativeLogLikelihood(
  options: NegativeLogLikelihoodOptions = {},
): AnswerEnergyLoss {
  const { beta, reducer } = resolveOptions('negativeLogLikelihood', options, {
    beta: 1,
    reducer: mean(),
  });
  assertPositive(beta, 'negativeLogLikelihood: beta');
  assertReducer(reducer, 'negativeLogLikelihood: reducer');
  return (energies, targets) => {
    assertAnswerEnergies(energies, targets, 'negativeLogLikelihood');
    const k = energies.shape[1];
    return tf.tidy(() => {
      const correct = tf.sum(tf.mul(energies, targetsOneHot(targets, k)), 1);
      const freeEnergy = tf.div(ops.logSumExp(tf.mul(energies, -beta), 1), beta);
      return reducer.reduce(tf.add(correct, freeEnergy));
    });
  };
}
