import { resolveOptions } from '@ebmjs/contract';
import { ops, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertPositive } from './checks.js';
import { targetsOneHot } from './labels.js';
import { type AnswerEnergyLoss, assertAnswerEnergies } from './negative-log-likelihood.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

/**
 * Margin losses of LeCun et al. 2006 ("A tutorial on energy-based learning", §2.2) on the
 * energy of the correct answer E⁺ = E(x, y*) and of the most offending incorrect answer
 * Ē = min_{y ≠ y*} E(x, y). They take energies [B, K] and targets [B].
 */
export interface MarginLossOptions {
  /** Reduces the per-example losses. Default mean. */
  reducer?: Reducer;
}

export interface MarginOptions extends MarginLossOptions {
  /** The margin m ≥ 0. Default 1. */
  margin?: number;
}

export interface SquareExponentialOptions extends MarginLossOptions {
  /** The weight γ > 0 of exp(−Ē). Default 1. */
  gamma?: number;
}

/** Builds a margin loss from f(E⁺, Ē) → per-example loss. */
function marginLoss(
  name: string,
  reducer: Reducer,
  f: (correct: tf.Tensor, offending: tf.Tensor) => tf.Tensor,
): AnswerEnergyLoss {
  assertReducer(reducer, `marginLosses.${name}: reducer`);
  return (energies, targets) => {
    assertAnswerEnergies(energies, targets, `marginLosses.${name}`);
    const k = energies.shape[1];
    return tf.tidy(() => {
      const oneHot = targetsOneHot(targets, k);
      const correct = tf.sum(tf.mul(energies, oneHot), 1);
      // The correct answer is replaced by +MASK so the min picks the best incorrect one.
      const offending = tf.min(
        tf.where(tf.greater(oneHot, 0), tf.fill(energies.shape, ops.MASK_VALUE), energies),
        1,
      );
      return reducer.reduce(f(correct, offending));
    });
  };
}

/** Hinge: max(0, m + E⁺ − Ē). */
export function hinge(options: MarginOptions = {}): AnswerEnergyLoss {
  const { margin, reducer } = resolveOptions('marginLosses.hinge', options, {
    margin: 1,
    reducer: mean(),
  });
  validate.assertNumber(margin, 'marginLosses.hinge: margin', { min: 0 });
  return marginLoss('hinge', reducer, (c, o) => tf.relu(tf.add(tf.sub(c, o), margin)));
}

/** Log loss, a soft hinge with an infinite margin: log(1 + exp(E⁺ − Ē)). */
export function log(options: MarginLossOptions = {}): AnswerEnergyLoss {
  const { reducer } = resolveOptions('marginLosses.log', options, { reducer: mean() });
  return marginLoss('log', reducer, (c, o) => tf.softplus(tf.sub(c, o)));
}

/** Square-square: E⁺² + max(0, m − Ē)². Energies should be ≥ 0. */
export function squareSquare(options: MarginOptions = {}): AnswerEnergyLoss {
  const { margin, reducer } = resolveOptions('marginLosses.squareSquare', options, {
    margin: 1,
    reducer: mean(),
  });
  validate.assertNumber(margin, 'marginLosses.squareSquare: margin', { min: 0 });
  return marginLoss('squareSquare', reducer, (c, o) =>
    tf.add(tf.square(c), tf.square(tf.relu(tf.sub(margin, o)))),
  );
}

/** Square-exponential: E⁺² + γ exp(−Ē). */
export function squareExponential(options: SquareExponentialOptions = {}): AnswerEnergyLoss {
  const { gamma, reducer } = resolveOptions('marginLosses.squareExponential', options, {
    gamma: 1,
    reducer: mean(),
  });
  assertPositive(gamma, 'marginLosses.squareExponential: gamma');
  return marginLoss('squareExponential', reducer, (c, o) =>
    tf.add(tf.square(c), tf.mul(tf.exp(tf.neg(o)), gamma)),
  );
}
