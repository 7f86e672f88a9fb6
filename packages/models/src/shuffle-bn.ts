import { EbmError, type Rng } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { positiveInt } from './checks.js';

/**
 * One batch's Shuffle BN plan (MoCo, He et al. 2020 §3.3), emulated on one device as the MoCo
 * reference does for single-GPU runs: the batch is permuted, cut into `sizes.length` groups
 * ("simulated devices") whose BatchNorm layers each see only their own rows, and the outputs are
 * permuted back so that row i is again the key of image i.
 */
export interface ShufflePlan {
  /** Row of the batch at each shuffled position: shuffled[i] = x[permutation[i]]. */
  readonly permutation: Int32Array;
  /** The inverse permutation: x[i] = shuffled[inverse[i]]. */
  readonly inverse: Int32Array;
  /** Group sizes in shuffled order; they sum to the batch size and differ by at most one. */
  readonly sizes: readonly number[];
}

/** Fewest rows a group may hold: BatchNorm over one row has zero variance and erases it. */
export const MIN_ROWS_PER_GROUP = 2;

/** inverse[p[i]] = i. */
export function inversePermutation(permutation: Int32Array): Int32Array {
  const inverse = new Int32Array(permutation.length).fill(-1);
  permutation.forEach((p, i) => {
    if (p < 0 || p >= permutation.length || inverse[p] !== -1) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `inversePermutation: expected a permutation of [0, ${permutation.length}), received ${p} at position ${i}.`,
      );
    }
    inverse[p] = i;
  });
  return inverse;
}

/**
 * A random permutation of `batchSize` rows (from `rng`, so runs replay and resume exactly) cut
 * into `groups` groups of ⌈n/G⌉ or ⌊n/G⌋ rows. Each group needs at least two rows.
 */
export function shufflePlan(batchSize: number, groups: number, rng: Rng): ShufflePlan {
  const where = 'shufflePlan';
  positiveInt(batchSize, `${where}: batchSize`);
  positiveInt(groups, `${where}: groups`);
  if (batchSize < groups * MIN_ROWS_PER_GROUP) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: ${groups} groups need a batch of at least ${groups * MIN_ROWS_PER_GROUP} rows (${MIN_ROWS_PER_GROUP} per group), received ${batchSize}.`,
      { argument: 'groups', received: groups },
    );
  }
  const permutation = rng.permutation(batchSize);
  const base = Math.floor(batchSize / groups);
  const sizes = Array.from({ length: groups }, (_, g) => base + (g < batchSize % groups ? 1 : 0));
  return { permutation, inverse: inversePermutation(permutation), sizes };
}

/**
 * Shuffle, run `fn` on each group separately, concatenate and unshuffle: row i of the result is
 * fn's output for row i of `x`, computed among the rows of its group. The caller disposes it.
 */
export function applyShuffled(
  x: tf.Tensor,
  plan: ShufflePlan,
  fn: (group: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const n = x.shape[0];
  if (n !== plan.permutation.length) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `applyShuffled: the plan is for a batch of ${plan.permutation.length} rows, received ${n}.`,
    );
  }
  return tf.tidy(() => {
    const shuffled = tf.gather(x, Array.from(plan.permutation));
    const outputs = tf.split(shuffled, [...plan.sizes], 0).map(fn);
    return tf.gather(tf.concat(outputs, 0), Array.from(plan.inverse));
  });
}
