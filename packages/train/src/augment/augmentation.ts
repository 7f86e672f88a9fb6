import { EbmError, type Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * One batched augmentation: images [n, h, w, c] in [0, 1] → a new batch of the same shape.
 * Randomness comes only from `rng`, so a seeded pipeline replays exactly. The input is not
 * disposed; the output is owned by the caller.
 */
export type Augmentation = (images: tf.Tensor4D, rng: Rng) => tf.Tensor4D;

/** Validates an augmentation's input batch. */
export function assertImages(images: unknown, what: string): asserts images is tf.Tensor4D {
  validate.assertRank(images, 4, `${what}: images`);
  validate.assertFloat(images, `${what}: images`);
}

/** Checks a [min, max] option. */
export function assertRange(
  range: readonly [number, number],
  what: string,
  lower = Number.NEGATIVE_INFINITY,
): void {
  if (
    !(
      Array.isArray(range) &&
      range.length === 2 &&
      range[0] <= range[1] &&
      range[0] >= lower &&
      range.every(Number.isFinite)
    )
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be [min, max] with ${lower} <= min <= max, received ${JSON.stringify(range)}.`,
    );
  }
}

export function assertProbability(p: number, what: string): void {
  validate.assertNumber(p, what, { min: 0, max: 1 });
}

/** Uniform draw in [lo, hi]. */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Per-image 0/1 mask [n, 1, 1, 1] with P(1) = p. */
export function bernoulliMask(rng: Rng, n: number, p: number): tf.Tensor4D {
  return tf.tensor4d(
    Float32Array.from({ length: n }, () => (rng.next() < p ? 1 : 0)),
    [n, 1, 1, 1],
  );
}

/** Runs `fn` on the batch and keeps its result only for images where the mask is 1. */
export function applyWithProbability(
  images: tf.Tensor4D,
  rng: Rng,
  p: number,
  fn: (images: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor4D {
  if (p === 0) return tf.clone(images);
  return tf.tidy(() => {
    const out = fn(images);
    if (p === 1) return out;
    const mask = bernoulliMask(rng, images.shape[0], p);
    return tf.add(tf.mul(out, mask), tf.mul(images, tf.sub(1, mask))) as tf.Tensor4D;
  });
}

/** ITU-R 601 luma, [n, h, w, 1]; a 1-channel batch is returned as is. */
export function luma(images: tf.Tensor4D): tf.Tensor4D {
  if (images.shape[3] === 1) return images;
  return tf.sum(tf.mul(images, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as tf.Tensor4D;
}
