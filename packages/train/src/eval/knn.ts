import { EbmError, ops, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

export interface KnnOptions {
  /** Neighbours that vote. Default 200 (InstDisc). */
  k?: number;
  /** Votes are weighted by exp(cos / temperature). Default 0.1. */
  temperature?: number;
  /** Test rows scored per matrix product. Default 256. */
  batchSize?: number;
  numClasses?: number;
}

export interface KnnResult {
  accuracy: number;
  predictions: Int32Array;
}

/**
 * Weighted k-nearest-neighbour classification in cosine similarity, the protocol of InstDisc
 * (Wu et al. 2018) that lightly and solo-learn report: each of the k most similar training
 * embeddings votes for its class with weight exp(cos / τ).
 */
export function knnEvaluate(
  train: { embeddings: tf.Tensor; labels: Int32Array },
  test: { embeddings: tf.Tensor; labels: Int32Array },
  options: KnnOptions = {},
): KnnResult {
  const { temperature = 0.1, batchSize = 256 } = options;
  validate.assertFloatTensor(train.embeddings, 2, 'knnEvaluate: train.embeddings');
  validate.assertFloatTensor(test.embeddings, 2, 'knnEvaluate: test.embeddings');
  validate.assertSameDim(
    train.embeddings,
    1,
    'knnEvaluate: train.embeddings',
    test.embeddings,
    1,
    'knnEvaluate: test.embeddings',
  );
  checkLabels(train.embeddings, train.labels, 'train');
  checkLabels(test.embeddings, test.labels, 'test');
  validate.assertNumber(temperature, 'knnEvaluate: temperature', { min: 0, exclusiveMin: true });
  const nTrain = train.labels.length;
  const k = Math.min(options.k ?? 200, nTrain);
  validate.assertNumber(k, 'knnEvaluate: k', { min: 1, integer: true });
  const numClasses = options.numClasses ?? classCount(train.labels, test.labels);

  const predictions = new Int32Array(test.labels.length);
  // Transposed once: matMul with a transpose flag is much slower on some backends (wasm).
  const trainNormT = tf.tidy(() => tf.transpose(ops.l2Normalize(train.embeddings, 1)));
  const scores = new Float64Array(numClasses);
  const order = new Int32Array(nTrain);
  try {
    for (let start = 0; start < test.labels.length; start += batchSize) {
      const size = Math.min(batchSize, test.labels.length - start);
      const simTensor = tf.tidy(() => {
        const q = ops.l2Normalize(tf.slice(test.embeddings, [start, 0], [size, -1]), 1);
        return tf.matMul(q, trainNormT);
      });
      const sim = simTensor.dataSync() as Float32Array;
      simTensor.dispose();
      // Top-k selection in JS: tfjs's TopK sorts whole rows, which dominates at 60k neighbours.
      for (let r = 0; r < size; r++) {
        const row = sim.subarray(r * nTrain, (r + 1) * nTrain);
        selectTopK(row, k, order);
        scores.fill(0);
        for (let j = 0; j < k; j++) {
          const i = order[j]!;
          scores[train.labels[i]!]! += Math.exp((row[i]! - 1) / temperature);
        }
        let best = 0;
        for (let c = 1; c < numClasses; c++) if (scores[c]! > scores[best]!) best = c;
        predictions[start + r] = best;
      }
    }
  } finally {
    trainNormT.dispose();
  }
  return { accuracy: accuracy(predictions, test.labels), predictions };
}

export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return labels.length === 0 ? 0 : correct / labels.length;
}

export function checkLabels(embeddings: tf.Tensor, labels: Int32Array, what: string): void {
  if (!(labels instanceof Int32Array) || labels.length !== embeddings.shape[0]) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${what}: expected ${embeddings.shape[0]} labels (one per embedding) as an Int32Array, received ${labels instanceof Int32Array ? labels.length : typeof labels}.`,
    );
  }
}

/** 1 + the largest label (at least 2), without spreading 60k labels into Math.max's arguments. */
export function classCount(...labelSets: Int32Array[]): number {
  let max = 1;
  for (const labels of labelSets) for (const l of labels) if (l > max) max = l;
  return max + 1;
}

/**
 * Puts the indices of the k largest values of `row` in order[0..k) (in no particular order),
 * by quickselect over an index permutation: O(n) on average instead of a full sort.
 */
function selectTopK(row: Float32Array, k: number, order: Int32Array): void {
  const n = row.length;
  for (let i = 0; i < n; i++) order[i] = i;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = row[order[(lo + hi) >> 1]!]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (row[order[i]!]! > pivot) i++;
      while (row[order[j]!]! < pivot) j--;
      if (i <= j) {
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else break;
  }
}
