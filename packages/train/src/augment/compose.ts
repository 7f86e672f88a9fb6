import type { Rng } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from './augmentation.js';

/** Applies augmentations in order, freeing every intermediate batch. */
export function compose(steps: readonly Augmentation[]): Augmentation {
  return (images, rng) => {
    let current = images;
    for (const step of steps) {
      const next = step(current, rng);
      if (current !== images) current.dispose();
      current = next;
    }
    return current === images ? tf.clone(images) : current;
  };
}

/** Two independently augmented views of the same batch (SimCLR, MoCo). */
export function twoViews(
  pipeline: Augmentation,
  images: tf.Tensor4D,
  rng: Rng,
): [tf.Tensor4D, tf.Tensor4D] {
  return [pipeline(images, rng), pipeline(images, rng)];
}
