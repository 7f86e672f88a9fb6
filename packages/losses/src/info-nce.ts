import { resolveOptions } from '@ebmjs/contract';
import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { assertDistance, cosine, type Distance, score } from './distances.js';
import { maskedLogSumExp, offDiagonal } from './masked.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

export interface InfoNceOptions {
  /** Softmax temperature τ > 0. Default 0.07 (MoCo). */
  temperature?: number;
  /** Default cosine. */
  similarity?: Distance;
  /**
   * Use the other rows' positive keys as negatives. Default: true when no `negatives` are
   * passed (in-batch, info-nce-pytorch), false when they are (MoCo's queue).
   */
  inBatchNegatives?: boolean;
  reducer?: Reducer;
}

/**
 * query [N, d], positiveKey [N, d], negatives: [M, d] shared by every query (a queue or
 * memory bank) or [N, M, d] per query.
 */
export type InfoNceLoss = (
  query: tf.Tensor,
  positiveKey: tf.Tensor,
  negatives?: tf.Tensor,
) => tf.Scalar;

/**
 * Similarities of each anchor with its own candidates: shared negatives [M, d] → [N, M] by
 * one matrix product; per-anchor negatives [N, M, d] → [N, M] by pairing rows.
 */
export function candidateScores(
  similarity: Distance,
  anchors: tf.Tensor2D,
  negatives: tf.Tensor,
): tf.Tensor2D {
  if (negatives.rank === 2)
    return score(similarity, similarity.matrix(anchors, negatives)) as tf.Tensor2D;
  const [n, m, d] = negatives.shape as [number, number, number];
  const tiled = tf.reshape(tf.tile(tf.expandDims(anchors, 1), [1, m, 1]), [n * m, d]);
  const flat = tf.reshape(negatives, [n * m, d]);
  return tf.reshape(score(similarity, similarity.paired(tiled, flat)), [n, m]) as tf.Tensor2D;
}

/** Validates negatives for `anchors` [N, d]: [M, d] shared or [N, M, d] per anchor. */
export function assertNegatives(
  negatives: tf.Tensor,
  anchors: tf.Tensor,
  where: string,
  anchorsName: string,
): void {
  assertFloatInput(negatives, [2, 3], `${where}: negatives`);
  validate.assertSameDim(
    negatives,
    -1,
    `${where}: negatives`,
    anchors,
    1,
    `${where}: ${anchorsName}`,
  );
  if (negatives.rank === 3)
    validate.assertSameDim(
      negatives,
      0,
      `${where}: negatives`,
      anchors,
      0,
      `${where}: ${anchorsName}`,
    );
}

/**
 * InfoNCE (van den Oord et al. 2018; MoCo, He et al. 2020). For query q_i with key k_i⁺ and
 * negatives n_ij, with logits s/τ:
 *   ℓ_i = −s(q_i, k_i⁺)/τ + log[ exp(s(q_i, k_i⁺)/τ) + Σ_j exp(s(q_i, n_ij)/τ) ],
 * the cross-entropy of picking the positive. In-batch negatives are the other rows' keys.
 */
export function infoNCE(options: InfoNceOptions = {}): InfoNceLoss {
  const { temperature, similarity, inBatchNegatives, reducer } = resolveOptions(
    'infoNCE',
    options,
    { temperature: 0.07, similarity: cosine(), inBatchNegatives: undefined, reducer: mean() },
  );
  assertPositive(temperature, 'infoNCE: temperature');
  assertDistance(similarity, 'infoNCE: similarity');
  assertReducer(reducer, 'infoNCE: reducer');
  if (inBatchNegatives !== undefined && typeof inBatchNegatives !== 'boolean') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `infoNCE: inBatchNegatives must be a boolean, received ${typeof inBatchNegatives}.`,
    );
  }
  return (query, positiveKey, negatives) => {
    assertFloatInput(query, 2, 'infoNCE: query');
    assertFloatInput(positiveKey, 2, 'infoNCE: positiveKey');
    validate.assertSameShape(query, 'infoNCE: query', positiveKey, 'infoNCE: positiveKey');
    if (negatives !== undefined) assertNegatives(negatives, query, 'infoNCE', 'query');
    const n = query.shape[0]!;
    assertAtLeast(n, 1, 'infoNCE: batch size', 'the batch is empty.');
    const inBatch = inBatchNegatives ?? negatives === undefined;
    const explicit = negatives === undefined ? 0 : negatives.shape[negatives.rank - 2]!;
    const available = (inBatch ? n - 1 : 0) + explicit;
    if (available < 1) {
      throw new EbmError(
        'BATCH_TOO_SMALL',
        `infoNCE: every query needs at least one negative, received a batch of ${n} with ${explicit} explicit negatives` +
          `${inBatch ? '' : ' and in-batch negatives off'}.`,
        { expected: '>= 1 negative', received: available },
      );
    }
    return tf.tidy(() => {
      const q = query as tf.Tensor2D;
      const k = positiveKey as tf.Tensor2D;
      const positive = tf.div(score(similarity, similarity.paired(q, k)), temperature);
      const parts: tf.Tensor[] = [tf.expandDims(positive, 1)];
      const keep: tf.Tensor[] = [tf.ones([n, 1], 'bool')];
      if (inBatch) {
        // Row i: all keys; the diagonal is the positive already counted in column 0.
        parts.push(tf.div(score(similarity, similarity.matrix(q, k)), temperature));
        keep.push(offDiagonal(n));
      }
      if (negatives !== undefined && explicit > 0) {
        parts.push(tf.div(candidateScores(similarity, q, negatives), temperature));
        keep.push(tf.ones([n, explicit], 'bool'));
      }
      const logits = tf.concat(parts, 1);
      const perQuery = tf.sub(maskedLogSumExp(logits, tf.concat(keep, 1), 1), positive);
      return reducer.reduce(perQuery);
    });
  };
}
