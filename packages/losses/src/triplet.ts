import { resolveOptions } from '@ebmjs/contract';
import { EbmError, ops, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput } from './checks.js';
import { assertDistance, type Distance, gap, lp } from './distances.js';
import { checkIndexTuple, toTriplets } from './indices.js';
import { assertLabels, sameLabelMask } from './labels.js';
import { isGreater, offDiagonal } from './masked.js';
import { assertMiner, type Miner } from './miners.js';
import { assertReducer, mean, meanNonZero, type Reducer } from './reducers.js';
import type { LabelledLoss } from './sup-con.js';

export type TripletMining = 'all' | 'hard' | 'semihard';

export interface TripletOptions {
  /** The margin α ≥ 0 of max(0, D_ap − D_an + α). Default 0.2 (FaceNet). */
  margin?: number;
  /**
   * @deprecated Pass `miner: miners.batchHard()` or `miner: miners.semiHard()` with
   * `reducer: reducers.mean()` instead (the same loss; the tests check it).
   * Which triplets count. 'all' (default): every valid (a, p, n). 'hard': per anchor, the
   * farthest positive and the nearest negative (batch-hard, Hermans et al. 2017). 'semihard':
   * per positive pair, the nearest negative farther than the positive, or the farthest negative
   * when none is (FaceNet; TensorFlow Addons' triplet_semihard_loss).
   */
  mining?: TripletMining;
  /** Default distances.lp(). A similarity S enters as D = −S. */
  distance?: Distance;
  /**
   * Default meanNonZero for 'all' and for mined triplets (pytorch-metric-learning), mean for
   * 'hard' and 'semihard'.
   */
  reducer?: Reducer;
  /**
   * Mines the triplets on every call made without `indices` (see `miners`); pair tuples become
   * every (a, p, n) of a mined positive and a mined negative pair of the same anchor.
   */
  miner?: Miner;
}

/**
 * Triplet margin loss (Weinberger & Saul 2009; Schroff et al. 2015):
 *   ℓ(a, p, n) = max(0, D(a, p) − D(a, n) + margin),  y_a = y_p, a ≠ p, y_n ≠ y_a.
 * A batch without a valid triplet gives 0.
 */
export function triplet(options: TripletOptions = {}): LabelledLoss {
  const o = resolveOptions('triplet', options, {
    margin: 0.2,
    mining: 'all',
    distance: lp(),
    reducer: undefined,
    miner: undefined,
  });
  const { margin, mining, distance, miner } = o;
  validate.assertNumber(margin, 'triplet: margin', { min: 0 });
  assertDistance(distance, 'triplet: distance');
  if (mining !== 'all' && mining !== 'hard' && mining !== 'semihard') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `triplet: mining must be 'all', 'hard' or 'semihard', received ${String(mining)}.`,
    );
  }
  if (miner !== undefined) assertMiner(miner, 'triplet: miner');
  if (miner !== undefined && mining !== 'all') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `triplet: give either miner or mining, received both (mining '${mining}').`,
    );
  }
  const reducer = o.reducer ?? (mining === 'all' ? meanNonZero() : mean());
  assertReducer(reducer, 'triplet: reducer');
  return (embeddings, labels, indices) => {
    assertFloatInput(embeddings, 2, 'triplet: embeddings');
    const n = embeddings.shape[0]!;
    assertLabels(labels, n, 'triplet: labels');
    assertAtLeast(
      n,
      3,
      'triplet: batch size',
      'a triplet needs an anchor, a positive and a negative.',
    );
    if (indices !== undefined && mining !== 'all') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `triplet: indices replace mining, received both (mining '${mining}').`,
      );
    }
    const given = indices ?? miner?.(embeddings, labels);
    const mined =
      given === undefined
        ? undefined
        : toTriplets(checkIndexTuple(given, n, n, 'triplet: indices'));
    return tf.tidy(() => {
      const z = embeddings as tf.Tensor2D;
      const d = gap(distance, distance.matrix(z, z)) as tf.Tensor2D;
      if (mined !== undefined) {
        const [a, p, neg] = mined;
        // An empty tuple: a zero that still depends on the embeddings.
        if (a.length === 0) return tf.mul(tf.sum(d), 0) as tf.Scalar;
        const flat = tf.reshape(d, [-1]);
        const at = (cols: Int32Array) =>
          tf.gather(
            flat,
            tf.tensor1d(
              a.map((r, k) => r * n + cols[k]!),
              'int32',
            ),
          );
        return reducer.reduce(tf.relu(tf.add(tf.sub(at(p), at(neg)), margin)));
      }
      const same = sameLabelMask(labels);
      const positive = tf.logicalAnd(same, offDiagonal(n));
      const negative = tf.logicalNot(same);
      const big = tf.fill([n, n], ops.MASK_VALUE);
      if (mining === 'all') {
        // [a, p, n] = D_ap − D_an + margin.
        const losses = tf.relu(tf.add(tf.sub(tf.expandDims(d, 2), tf.expandDims(d, 1)), margin));
        const valid = tf.logicalAnd(tf.expandDims(positive, 2), tf.expandDims(negative, 1));
        return reducer.reduce(losses, tf.cast(valid, 'float32'));
      }
      const hasNegative = tf.any(negative, 1);
      if (mining === 'hard') {
        const hardestPositive = tf.max(tf.where(positive, d, tf.neg(big)), 1);
        const hardestNegative = tf.min(tf.where(negative, d, big), 1);
        const losses = tf.relu(tf.add(tf.sub(hardestPositive, hardestNegative), margin));
        const valid = tf.logicalAnd(tf.any(positive, 1), hasNegative);
        return reducer.reduce(losses, tf.cast(valid, 'float32'));
      }
      // Semi-hard: for each (a, p), negatives with D_an > D_ap, the nearest of them. The
      // choice depends on D, so it is made in float arithmetic (see isGreater).
      const dap = tf.expandDims(d, 2); // [a, p, 1]
      const dan = tf.expandDims(d, 1); // [a, 1, n]
      const negative3 = tf.expandDims(tf.cast(negative, 'float32'), 1); // [a, 1, n]
      const outside = tf.mul(negative3, isGreater(dan, dap)); // [a, p, n]
      const dan3 = tf.tile(dan, [1, n, 1]);
      const nearestOutside = tf.min(
        tf.where(tf.cast(outside, 'bool'), dan3, tf.fill([n, n, n], ops.MASK_VALUE)),
        2,
      );
      const farthestNegative = tf.tile(
        tf.expandDims(tf.max(tf.where(negative, d, tf.neg(big)), 1), 1),
        [1, n],
      );
      const chosen = tf.where(
        tf.cast(tf.max(outside, 2), 'bool'),
        nearestOutside,
        farthestNegative,
      );
      const losses = tf.relu(tf.add(tf.sub(d, chosen), margin));
      const valid = tf.logicalAnd(positive, tf.expandDims(hasNegative, 1));
      return reducer.reduce(losses, tf.cast(valid, 'float32'));
    });
  };
}
