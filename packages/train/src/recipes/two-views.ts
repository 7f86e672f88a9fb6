import type { Rng } from '@ebmjs/core';
import { untaped } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import { type ImageDataset, imageBatch } from '../datasets/dataset.js';

/**
 * Two augmented views of a batch, made off the gradient tape (augmentation is data
 * preparation). The caller disposes both.
 */
export function twoViews(
  dataset: ImageDataset,
  indices: Int32Array,
  pipeline: Augmentation,
  rng: Rng,
): [tf.Tensor4D, tf.Tensor4D] {
  return untaped(() =>
    tf.tidy(() => {
      const x = imageBatch(dataset, indices);
      return [pipeline(x, rng), pipeline(x, rng)] as [tf.Tensor4D, tf.Tensor4D];
    }),
  );
}

/** BYOL's target momentum at step k of K: τ = 1 − (1 − τ_base)·(cos(πk/K) + 1)/2, 1 from K on. */
export function cosineMomentum(base: number, step: number, totalSteps: number): number {
  const progress = Math.min(step / Math.max(totalSteps, 1), 1);
  return 1 - ((1 - base) * (Math.cos(Math.PI * progress) + 1)) / 2;
}
