import * as tf from '@tensorflow/tfjs-core';
import {
  type Augmentation,
  applyWithProbability,
  assertImages,
  assertProbability,
} from './augmentation.js';

/** Mirrors each image left-right with probability p (default 0.5). */
export function horizontalFlip({ p = 0.5 }: { p?: number } = {}): Augmentation {
  assertProbability(p, 'horizontalFlip: p');
  return (images, rng) => {
    assertImages(images, 'horizontalFlip');
    return applyWithProbability(images, rng, p, (x) => tf.reverse(x, 2));
  };
}
