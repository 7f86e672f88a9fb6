import { resolveOptions } from '@ebmjs/contract';
import { validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput } from './checks.js';
import { assertDistance, type Distance, lp } from './distances.js';
import { checkIndexTuple, toPairs } from './indices.js';
import { assertLabels, sameLabelMask } from './labels.js';
import { assertMiner, type Miner } from './miners.js';
import { assertReducer, meanNonZero, type Reducer } from './reducers.js';
import type { LabelledLoss } from './sup-con.js';

export interface PairContrastiveOptions {
  /**
   * Negative pairs are pushed until their distance exceeds `margin` (with a similarity: until
   * it falls below `margin`). Default 1 for a distance, 0 for a similarity.
   */
  margin?: number;
  /**
   * Positive pairs are pulled until their distance is at most `positiveMargin` (with a
   * similarity: at least it). Default 0 for a distance (Hadsell et al.), 1 for a similarity.
   */
  positiveMargin?: number;
  /** Default distances.lp() (Euclidean on L2-normalised embeddings). */
  distance?: Distance;
  /** Reduces the losses of all pairs i < j (or of the mined pairs). Default meanNonZero. */
  reducer?: Reducer;
  /** Mines the pairs on every call made without `indices` (see `miners`). Default: all pairs i < j. */
  miner?: Miner;
}

/**
 * The contrastive loss of Hadsell, Chopra & LeCun 2006 over every pair i < j of the batch:
 *   similar pair (y_i = y_j):    ½ max(0, D_ij − m⁺)²   (m⁺ = 0: ½ D²)
 *   dissimilar pair:              ½ max(0, m − D_ij)²
 * With a similarity S the roles flip: ½ max(0, m⁺ − S)² and ½ max(0, S − m)².
 * With mined `indices` (pairs, or triplets read as their (a, p) and (a, n) pairs) the loss runs
 * over the listed positive and negative pairs instead, each as listed.
 */
export function pairContrastive(options: PairContrastiveOptions = {}): LabelledLoss {
  const o = resolveOptions('pairContrastive', options, {
    margin: undefined,
    positiveMargin: undefined,
    distance: lp(),
    reducer: meanNonZero(),
    miner: undefined,
  });
  const { distance, reducer, miner } = o;
  assertDistance(distance, 'pairContrastive: distance');
  assertReducer(reducer, 'pairContrastive: reducer');
  if (miner !== undefined) assertMiner(miner, 'pairContrastive: miner');
  const margin = o.margin ?? (distance.isSimilarity ? 0 : 1);
  const positiveMargin = o.positiveMargin ?? (distance.isSimilarity ? 1 : 0);
  validate.assertNumber(margin, 'pairContrastive: margin');
  validate.assertNumber(positiveMargin, 'pairContrastive: positiveMargin');
  return (embeddings, labels, indices) => {
    assertFloatInput(embeddings, 2, 'pairContrastive: embeddings');
    const n = embeddings.shape[0]!;
    assertLabels(labels, n, 'pairContrastive: labels');
    assertAtLeast(n, 2, 'pairContrastive: batch size', 'the loss is over pairs of embeddings.');
    const given = indices ?? miner?.(embeddings, labels);
    const pairs =
      given === undefined
        ? undefined
        : toPairs(checkIndexTuple(given, n, n, 'pairContrastive: indices'));
    return tf.tidy(() => {
      const z = embeddings as tf.Tensor2D;
      const d = distance.matrix(z, z);
      const sign = distance.isSimilarity ? -1 : 1;
      // Violations as "distance beyond the allowed value", so both cases share one formula.
      const pull = tf.relu(tf.mul(tf.sub(d, positiveMargin), sign));
      const push = tf.relu(tf.mul(tf.sub(margin, d), sign));
      if (pairs !== undefined) {
        const at = (rows: Int32Array, cols: Int32Array, values: tf.Tensor) =>
          tf.gather(
            tf.reshape(values, [-1]),
            tf.tensor1d(
              rows.map((r, k) => r * n + cols[k]!),
              'int32',
            ),
          );
        const perPair = tf.mul(
          tf.square(tf.concat([at(pairs[0], pairs[1], pull), at(pairs[2], pairs[3], push)])),
          0.5,
        );
        // An empty tuple: a zero that still depends on the embeddings.
        return perPair.size === 0 ? (tf.mul(tf.sum(d), 0) as tf.Scalar) : reducer.reduce(perPair);
      }
      const same = sameLabelMask(labels);
      const perPair = tf.mul(tf.square(tf.where(same, pull, push)), 0.5);
      const upper = tf.sub(tf.ones([n, n]), tf.linalg.bandPart(tf.ones([n, n]), -1, 0));
      return reducer.reduce(perPair, upper);
    });
  };
}
