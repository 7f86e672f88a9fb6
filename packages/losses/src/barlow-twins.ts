import { resolveOptions } from '@ebmjs/contract';
import { validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { offDiagonal } from './masked.js';
import type { TwoViewLoss } from './nt-xent.js';

export interface BarlowTwinsOptions {
  /** λ, weight of the redundancy-reduction (off-diagonal) term. Default 5e-3 (lightly; the paper's 0.0051). */
  lambda?: number;
  /** ε of the batch standardisation, inside the square root (BatchNorm1d's). Default 1e-5. */
  epsilon?: number;
}

/**
 * Barlow Twins (Zbontar et al. 2021). Each view is standardised per dimension over the batch,
 * ẑ = (z − mean) / sqrt(Var + ε) with the biased variance (1/N), as the authors' released code
 * (BatchNorm1d(affine=False) in training mode) and lightly's BarlowTwinsLoss do; the paper's
 * pseudo-code writes z.std(0), which in PyTorch is the unbiased one. Then
 *   C = ẑ1ᵀ ẑ2 / N  [D, D],   L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij².
 */
export function barlowTwins(options: BarlowTwinsOptions = {}): TwoViewLoss {
  const { lambda, epsilon } = resolveOptions('barlowTwins', options, {
    lambda: 5e-3,
    epsilon: 1e-5,
  });
  validate.assertNumber(lambda, 'barlowTwins: lambda', { min: 0 });
  assertPositive(epsilon, 'barlowTwins: epsilon');
  return (z1, z2) => {
    assertFloatInput(z1, 2, 'barlowTwins: z1');
    assertFloatInput(z2, 2, 'barlowTwins: z2');
    validate.assertSameShape(z1, 'barlowTwins: z1', z2, 'barlowTwins: z2');
    const [n, dim] = z1.shape as [number, number];
    assertAtLeast(
      n,
      2,
      'barlowTwins: batch size',
      'each dimension is standardised over the batch.',
    );
    return tf.tidy(() => {
      const standardise = (z: tf.Tensor) => {
        const centred = tf.sub(z, tf.mean(z, 0, true));
        const variance = tf.mean(tf.square(centred), 0, true);
        return tf.div(centred, tf.sqrt(tf.add(variance, epsilon)));
      };
      const c = tf.div(tf.matMul(standardise(z1), standardise(z2), true, false), n);
      const eye = tf.eye(dim);
      const onDiagonal = tf.sum(tf.square(tf.mul(tf.sub(1, c), eye)));
      const offDiagonalSum = tf.sum(tf.mul(tf.square(c), tf.cast(offDiagonal(dim), 'float32')));
      return tf.add(onDiagonal, tf.mul(offDiagonalSum, lambda)) as tf.Scalar;
    });
  };
}
