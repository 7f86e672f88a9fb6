import { resolveOptions } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { assertDistance, cosine, type Distance, score } from './distances.js';
import { checkIndexTuple, type IndexTupleLike, toPairs } from './indices.js';
import { assertLabels, type LabelsLike, sameLabelMask } from './labels.js';
import { maskedLogSumExp, offDiagonal } from './masked.js';
import { assertMiner, type Miner } from './miners.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

export interface SupConOptions {
  /** τ > 0. Default 0.1 (pytorch-metric-learning's SupConLoss). */
  temperature?: number;
  similarity?: Distance;
  /** Reduces per-anchor losses over the anchors that have a positive. Default mean. */
  reducer?: Reducer;
  /** Mines the pairs on every call made without `indices` (see `miners`). Default: all pairs. */
  miner?: Miner;
}

/**
 * embeddings [N, d] with one class label per row. `indices`, an index tuple from a miner
 * (triplets [a, p, n] or pairs [a1, p, a2, n], pytorch-metric-learning's shapes), restricts the
 * loss to those tuples; without it every valid pair or triplet counts.
 */
export type LabelledLoss = (
  embeddings: tf.Tensor,
  labels: LabelsLike,
  indices?: IndexTupleLike,
) => tf.Scalar;

/**
 * Supervised contrastive loss, L_out of Khosla et al. 2020 (pytorch-metric-learning's
 * SupConLoss). For anchor i with positives P(i) = {p ≠ i : y_p = y_i}:
 *   ℓ_i = −(1/|P(i)|) Σ_{p∈P(i)} [ s_ip/τ − log Σ_{a≠i} exp(s_ia/τ) ].
 * Anchors without a positive are left out; a batch with no positive pair gives 0.
 * For several views per sample, concatenate the views and repeat the labels.
 * With mined pairs, as pytorch-metric-learning's SupConLoss: P(i) is the mined positives of i
 * and the denominator runs over its mined positives and negatives.
 */
export function supCon(options: SupConOptions = {}): LabelledLoss {
  const { temperature, similarity, reducer, miner } = resolveOptions('supCon', options, {
    temperature: 0.1,
    similarity: cosine(),
    reducer: mean(),
    miner: undefined,
  });
  assertPositive(temperature, 'supCon: temperature');
  assertDistance(similarity, 'supCon: similarity');
  assertReducer(reducer, 'supCon: reducer');
  if (miner !== undefined) assertMiner(miner, 'supCon: miner');
  return (embeddings, labels, indices) => {
    assertFloatInput(embeddings, 2, 'supCon: embeddings');
    const n = embeddings.shape[0]!;
    assertLabels(labels, n, 'supCon: labels');
    assertAtLeast(
      n,
      2,
      'supCon: batch size',
      'each anchor needs other embeddings to contrast with.',
    );
    const given = indices ?? miner?.(embeddings, labels);
    const pairs =
      given === undefined ? undefined : toPairs(checkIndexTuple(given, n, n, 'supCon: indices'));
    return tf.tidy(() => {
      const z = embeddings as tf.Tensor2D;
      const logits = tf.div(score(similarity, similarity.matrix(z, z)), temperature);
      let others: tf.Tensor = offDiagonal(n);
      let positives = tf.cast(tf.logicalAnd(sameLabelMask(labels), others), 'float32');
      if (pairs !== undefined) {
        positives = pairMask(n, pairs[0], pairs[1]);
        others = tf.cast(tf.maximum(positives, pairMask(n, pairs[2], pairs[3])), 'bool');
      }
      const logDenominator = maskedLogSumExp(logits, others, 1);
      const numPositives = tf.sum(positives, 1);
      const positiveLogits = tf.sum(tf.mul(logits, positives), 1);
      // Σ_p (l_ip − logDen_i) / |P(i)| = (Σ_p l_ip) / |P(i)| − logDen_i.
      const perAnchor = tf.sub(logDenominator, tf.div(positiveLogits, tf.maximum(numPositives, 1)));
      return reducer.reduce(perAnchor, tf.cast(tf.greater(numPositives, 0), 'float32'));
    });
  };
}

/** [n, n] float32, 1 at the listed (row, column) entries. */
export function pairMask(n: number, rows: Int32Array, cols: Int32Array): tf.Tensor2D {
  const mask = new Float32Array(n * n);
  for (let k = 0; k < rows.length; k++) mask[rows[k]! * n + cols[k]!] = 1;
  return tf.tensor2d(mask, [n, n]);
}
