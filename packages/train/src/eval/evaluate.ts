import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../datasets/dataset.js';
import { type Embedder, embedDataset } from './embed.js';
import type { KnnOptions } from './knn.js';
import { evaluationClassCount, knnAccuracy } from './knn-accuracy.js';
import { type LinearProbeOptions, linearProbe } from './linear-probe.js';

export interface EvaluationResult {
  /** kNN accuracy on the test set (fraction). */
  knn: number;
  /** Linear-probe accuracy on the test set (fraction). */
  linear: number;
  seconds: number;
}

/**
 * The standard self-supervised evaluation of an embedder: weighted kNN and a linear probe,
 * both fitted on the training set's embeddings and scored on the test set's.
 */
export function evaluateEmbedder(
  embedder: Embedder,
  train: ImageDataset,
  test: ImageDataset,
  options: { knn?: KnnOptions; linear?: LinearProbeOptions; batchSize?: number } = {},
): EvaluationResult {
  const started = performance.now();
  const trainEmb = embedDataset(embedder, train, { batchSize: options.batchSize });
  const testEmb = embedDataset(embedder, test, { batchSize: options.batchSize });
  try {
    const knn = knnAccuracy(
      { embeddings: trainEmb, dataset: train },
      { embeddings: testEmb, dataset: test },
      options.knn,
    );
    const a = { embeddings: trainEmb, labels: train.labels };
    const b = { embeddings: testEmb, labels: test.labels };
    const numClasses = evaluationClassCount(train, test);
    const linear = linearProbe(a, b, { numClasses, ...options.linear }).accuracy;
    return { knn, linear, seconds: (performance.now() - started) / 1000 };
  } finally {
    tf.dispose([trainEmb, testEmb]);
  }
}
