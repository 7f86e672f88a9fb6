import { resolveOptions } from '@ebmjs/contract';
import { validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { offDiagonal } from './masked.js';
import type { TwoViewLoss } from './nt-xent.js';

export interface VicRegOptions {
  /** λ, weight of the invariance (MSE) term. Default 25. */
  invariance?: number;
  /** μ, weight of the variance term. Default 25. */
  variance?: number;
  /** ν, weight of the covariance term. Default 1. */
  covariance?: number;
  /** γ, the target standard deviation of every dimension. Default 1. */
  gamma?: number;
  /** ε inside the square root of the variance. Default 1e-4. */
  epsilon?: number;
}

/**
 * VICReg (Bardes, Ponce & LeCun 2022), normalised as the authors' released main_vicreg.py and
 * pytorch-metric-learning's VICRegLoss compute it. For z1, z2 [N, D]:
 *   s = mean over all N·D elements of (z1 − z2)²
 *   v(z) = (1/D) Σ_j relu(γ − sqrt(Var(z_:,j) + ε)), Var unbiased (N − 1)
 *   c(z) = (1/D) Σ_{i≠j} C(z)_ij², C(z) = (z − z̄)ᵀ(z − z̄) / (N − 1)
 *   L = λ s + μ [v(z1) + v(z2)] / 2 + ν [c(z1) + c(z2)]
 * The two variance terms are averaged (the authors' "/ 2", which pytorch-metric-learning
 * keeps); the two covariance terms are summed, as both implementations do.
 */
export function vicReg(options: VicRegOptions = {}): TwoViewLoss {
  const { invariance, variance, covariance, gamma, epsilon } = resolveOptions('vicReg', options, {
    invariance: 25,
    variance: 25,
    covariance: 1,
    gamma: 1,
    epsilon: 1e-4,
  });
  validate.assertNumber(invariance, 'vicReg: invariance', { min: 0 });
  validate.assertNumber(variance, 'vicReg: variance', { min: 0 });
  validate.assertNumber(covariance, 'vicReg: covariance', { min: 0 });
  validate.assertNumber(gamma, 'vicReg: gamma', { min: 0 });
  assertPositive(epsilon, 'vicReg: epsilon');
  return (z1, z2) => {
    assertFloatInput(z1, 2, 'vicReg: z1');
    assertFloatInput(z2, 2, 'vicReg: z2');
    validate.assertSameShape(z1, 'vicReg: z1', z2, 'vicReg: z2');
    const [n, dim] = z1.shape as [number, number];
    assertAtLeast(n, 2, 'vicReg: batch size', 'the variance and covariance are over the batch.');
    return tf.tidy(() => {
      const offDiag = tf.cast(offDiagonal(dim), 'float32');
      const branch = (z: tf.Tensor) => {
        const centred = tf.sub(z, tf.mean(z, 0, true));
        const cov = tf.div(tf.matMul(centred, centred, true, false), n - 1);
        const std = tf.sqrt(tf.add(tf.div(tf.sum(tf.square(centred), 0), n - 1), epsilon));
        return {
          v: tf.mean(tf.relu(tf.sub(gamma, std))),
          c: tf.div(tf.sum(tf.mul(tf.square(cov), offDiag)), dim),
        };
      };
      const a = branch(z1);
      const b = branch(z2);
      const s = tf.mean(tf.square(tf.sub(z1, z2)));
      return tf.addN([
        tf.mul(s, invariance),
        tf.mul(tf.add(a.v, b.v), variance / 2),
        tf.mul(tf.add(a.c, b.c), covariance),
      ]) as tf.Scalar;
    });
  };
}
