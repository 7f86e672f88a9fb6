import { resolveOptions } from '@ebmjs/contract';
import { EbmError, Rng, untaped, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  assertAtLeast,
  assertFloatInput,
  assertFunction,
  assertPositive,
  type EnergyFn,
  evalEnergies,
} from './checks.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

/** A score model: ∇ₓ log p(x), same shape as its input [n, ...]. */
export type ScoreFn = (x: tf.Tensor) => tf.Tensor;

/** The score of an energy model, s(x) = −∇ₓ E(x) (each row's energy depends on its row only). */
export function scoreFromEnergy(energy: EnergyFn): ScoreFn {
  assertFunction(energy, 'scoreFromEnergy: energy');
  // tf.grad inside a loss records its backward ops on the enclosing tape, so the loss can
  // itself be differentiated (double backprop).
  const grad = tf.grad((x: tf.Tensor) => tf.sum(evalEnergies(energy, x, 'scoreFromEnergy')));
  return (x) => tf.tidy(() => tf.neg(grad(x)));
}

export interface DenoisingOptions {
  /** Noise standard deviation σ > 0 of x̃ = x + σε. */
  sigma: number;
  /** Reduces the per-example losses. Default mean. */
  reducer?: Reducer;
  seed?: number;
}

/** (model, data [n, ...], noise?) → loss; `noise` is ε ~ N(0, I) of data's shape, drawn when omitted. */
export type DenoisingLoss<M> = (model: M, data: tf.Tensor, noise?: tf.Tensor) => tf.Scalar;

/** Shared checks and noise handling of the denoising losses. */
export function denoisingLoss<M>(
  name: string,
  options: DenoisingOptions,
  perExample: (model: M, data: tf.Tensor, noisy: tf.Tensor, noise: tf.Tensor) => tf.Tensor,
): DenoisingLoss<M> {
  const { sigma, reducer, seed } = resolveOptions(name, options, {
    sigma: undefined,
    reducer: mean(),
    seed: 0,
  });
  assertPositive(sigma, `${name}: sigma`);
  assertReducer(reducer, `${name}: reducer`);
  const rng = new Rng(seed);
  return (model, data, noise) => {
    assertFunction(model, `${name}: model`);
    assertFloatInput(data, [2, 3, 4, 5], `${name}: data`);
    assertAtLeast(data.shape[0]!, 1, `${name}: batch size`, 'the batch is empty.');
    if (noise !== undefined) {
      assertFloatInput(noise, data.rank, `${name}: noise`);
      validate.assertSameShape(data, `${name}: data`, noise, `${name}: noise`);
    }
    const drawn =
      noise === undefined
        ? untaped(() => tf.randomNormal(data.shape, 0, 1, 'float32', rng.seed()))
        : undefined;
    try {
      return tf.tidy(() => {
        const eps = drawn ?? noise!;
        const out = perExample(model, data, tf.add(data, tf.mul(eps, sigma)), eps);
        return reducer.reduce(out);
      });
    } finally {
      drawn?.dispose();
    }
  };
}

/** Sums over every axis but the batch axis: [n, ...] → [n]. */
export function rowSum(x: tf.Tensor): tf.Tensor {
  return x.rank === 1
    ? x
    : tf.sum(
        x,
        Array.from({ length: x.rank - 1 }, (_, i) => i + 1),
      );
}

/**
 * Denoising score matching (Vincent 2011): with x̃ = x + σε,
 *   ℓ = ½ ‖s(x̃) − ∇_x̃ log q(x̃|x)‖² = ½ ‖s(x̃) + ε/σ‖²,
 * whose minimiser is the score of the data smoothed by N(0, σ²I). Pass a score model, or an
 * energy through `scoreFromEnergy(energy)`.
 */
export function denoisingScoreMatching(options: DenoisingOptions): DenoisingLoss<ScoreFn> {
  const sigma = options?.sigma;
  return denoisingLoss<ScoreFn>('denoisingScoreMatching', options, (score, data, noisy, eps) => {
    const s = score(noisy);
    if (!(s instanceof tf.Tensor) || !tf.util.arraysEqual(s.shape, data.shape)) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `denoisingScoreMatching: the score model must return the shape of its input ${validate.shapeString(data.shape)}, received ${s instanceof tf.Tensor ? validate.shapeString(s.shape) : typeof s}.`,
      );
    }
    return tf.mul(rowSum(tf.square(tf.add(s, tf.div(eps, sigma)))), 0.5);
  });
}
