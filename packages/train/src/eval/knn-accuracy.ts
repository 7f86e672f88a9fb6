import type * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../datasets/dataset.js';
import { type KnnOptions, knnEvaluate } from './knn.js';

/** Embeddings of a labelled dataset, row i for image i. */
export interface EmbeddedDataset {
  embeddings: tf.Tensor;
  dataset: ImageDataset;
}

/** Classes an evaluation scores: the larger class list of the two datasets. */
export function evaluationClassCount(train: ImageDataset, test: ImageDataset): number {
  return Math.max(train.classNames.length, test.classNames.length);
}

/**
 * kNN accuracy (fraction) of `test` against the `bank`: the one kNN path that
 * `evaluateEmbedder` (and so `ebm eval`) and `knnMonitor` share, so a monitor's number and the
 * evaluation's agree exactly for the same embeddings, k and temperature.
 */
export function knnAccuracy(
  bank: EmbeddedDataset,
  test: EmbeddedDataset,
  options: KnnOptions = {},
): number {
  return knnEvaluate(
    { embeddings: bank.embeddings, labels: bank.dataset.labels },
    { embeddings: test.embeddings, labels: test.dataset.labels },
    { numClasses: evaluationClassCount(bank.dataset, test.dataset), ...options },
  ).accuracy;
}
