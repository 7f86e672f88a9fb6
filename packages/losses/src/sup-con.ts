import { resolveOptions } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { assertDistance, cosine, type Distance, score } from './distances.js';
import { assertLabels, type LabelsLike, sameLabelMask } from './labels.js';
import { maskedLogSumExp, offDiagonal } from './masked.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

export interface SupConOptions {
  /** τ > 0. Default 0.1 (pytorch-metric-learning's SupConLoss). */
  temperature?: number;
  similarity?: Distance;
  /** Reduces per-anchor losses over the anchors that have a positive. Default mean. */
  reducer?: Reducer;
}

/** embeddings [N, d] with one class label per row. */
export type LabelledLoss = (embeddings: tf.Tensor, labels: LabelsLike) => tf.Scalar;

/**
 * Supervised contrastive loss, L_out of Khosla et al. 2020 (pytorch-metric-learning's
 * SupConLoss). For anchor i with positives P(i) = {p ≠ i : y_p = y_i}:
 *   ℓ_i = −(1/|P(i)|) Σ_{p∈P(i)} [ s_ip/τ − log Σ_{a≠i} exp(s_ia/τ) ].
 * Anchors without a positive are left out; a batch with no positive pair gives 0.
 * For several views per sample, concatenate the views and repeat the labels.
 */
export function supCon(options: SupConOptions = {}): LabelledLoss {
  const { temperature, similarity, reducer } = resolveOptions('supCon', options, {
    temperature: 0.1,
    similarity: cosine(),
    reducer: mean(),
  });
  assertPositive(temperature, 'supCon: temperature');
  assertDistance(similarity, 'supCon: similarity');
  assertReducer(reducer, 'supCon: reducer');
  return (embeddings, labels) => {
    assertFloatInput(embeddings, 2, 'supCon: embeddings');
    const n = embeddings.shape[0]!;
    assertLabels(labels, n, 'supCon: labels');
    assertAtLeast(
      n,
      2,
      'supCon: batch size',
      'each anchor needs other embeddings to contrast with.',
    );
    return tf.tidy(() => {
      const z = embeddings as tf.Tensor2D;
      const logits = tf.div(score(similarity, similarity.matrix(z, z)), temperature);
      const others = offDiagonal(n);
      const positives = tf.cast(tf.logicalAnd(sameLabelMask(labels), others), 'float32');
      const logDenominator = maskedLogSumExp(logits, others, 1);
      const numPositives = tf.sum(positives, 1);
      const positiveLogits = tf.sum(tf.mul(logits, positives), 1);
      // Σ_p (l_ip − logDen_i) / |P(i)| = (Σ_p l_ip) / |P(i)| − logDen_i.
      const perAnchor = tf.sub(logDenominator, tf.div(positiveLogits, tf.maximum(numPositives, 1)));
      return reducer.reduce(perAnchor, tf.cast(tf.greater(numPositives, 0), 'float32'));
    });
  };
}
