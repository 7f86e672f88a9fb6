import { resolveOptions } from '@ebmjs/contract';
import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { assertDistance, cosine, type Distance, score } from './distances.js';
import { maskedLogSumExp, offDiagonal } from './masked.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

export interface NtXentOptions {
  /** Softmax temperature τ > 0. Default 0.5 (lightly's default). */
  temperature?: number;
  /** Similarity of two views. Default cosine (SimCLR). */
  similarity?: Distance;
  /** Reduces the 2N per-view losses. Default mean. */
  reducer?: Reducer;
  /**
   * Decoupled contrastive learning (DCL, Yeh et al. 2022): leave the positive out of the
   * denominator, ℓ_i = −s_ip/τ + log Σ_{k∉{i, p(i)}} exp(s_ik/τ). Default false (SimCLR).
   */
  decoupled?: boolean;
}

/** A loss over two views of the same batch: z1[i] and z2[i] are a positive pair. */
export type TwoViewLoss = (z1: tf.Tensor, z2: tf.Tensor) => tf.Scalar;

/**
 * SimCLR's NT-Xent (normalised temperature-scaled cross entropy). The 2N views
 * z = [z1; z2] are all anchors; for anchor i with positive p(i) = i ± N,
 *   ℓ_i = −s(z_i, z_p(i))/τ + log Σ_{k≠i} exp(s(z_i, z_k)/τ),
 * so both directions count and self-similarity is masked out. Loss = mean ℓ_i.
 * `decoupled: true` also masks the positive out of the sum (DCL).
 */
export function ntXent(options: NtXentOptions = {}): TwoViewLoss {
  const { temperature, similarity, reducer, decoupled } = resolveOptions('ntXent', options, {
    temperature: 0.5,
    similarity: cosine(),
    reducer: mean(),
    decoupled: false,
  });
  if (typeof decoupled !== 'boolean') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `ntXent: decoupled must be a boolean, received ${typeof decoupled}.`,
    );
  }
  assertPositive(temperature, 'ntXent: temperature');
  assertDistance(similarity, 'ntXent: similarity');
  assertReducer(reducer, 'ntXent: reducer');
  return (z1, z2) => {
    assertFloatInput(z1, 2, 'ntXent: z1');
    assertFloatInput(z2, 2, 'ntXent: z2');
    validate.assertSameShape(z1, 'ntXent: z1', z2, 'ntXent: z2');
    const n = z1.shape[0]!;
    assertAtLeast(
      n,
      2,
      'ntXent: batch size',
      'each view needs at least one other pair as a negative.',
    );
    return tf.tidy(() => {
      const z = tf.concat([z1, z2], 0);
      const logits = tf.div(score(similarity, similarity.matrix(z, z)), temperature);
      // Positive of row i is column (i + N) mod 2N: a shifted identity, as a 0/1 mask.
      const posIndex = tf.tensor1d(
        Int32Array.from({ length: 2 * n }, (_, i) => (i + n) % (2 * n)),
        'int32',
      );
      const positiveMask = tf.cast(tf.oneHot(posIndex, 2 * n), 'bool');
      const positive = tf.sum(tf.mul(logits, tf.cast(positiveMask, 'float32')), 1);
      const keep = decoupled
        ? tf.logicalAnd(offDiagonal(2 * n), tf.logicalNot(positiveMask))
        : offDiagonal(2 * n);
      const perView = tf.sub(maskedLogSumExp(logits, keep, 1), positive);
      return reducer.reduce(perView);
    });
  };
}
