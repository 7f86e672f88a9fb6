import * as tf from '@tensorflow/tfjs-core';
import {
  type Augmentation,
  applyWithProbability,
  assertImages,
  assertProbability,
  luma,
} from './augmentation.js';

/** Replaces RGB with its luma (kept 3-channel) with probability p. A no-op on 1-channel images. */
export function grayscale({ p = 0.2 }: { p?: number } = {}): Augmentation {
  assertProbability(p, 'grayscale: p');
  return (images, rng) => {
    assertImages(images, 'grayscale');
    if (images.shape[3] === 1) return tf.clone(images);
    return applyWithProbability(
      images,
      rng,
      p,
      (x) => tf.tile(luma(x), [1, 1, 1, x.shape[3]]) as tf.Tensor4D,
    );
  };
}
