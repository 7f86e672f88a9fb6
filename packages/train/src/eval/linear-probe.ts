import { Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { accuracy, checkLabels, classCount } from './knn.js';

export interface LinearProbeOptions {
  /** Passes over the training features. Default 30. */
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate. Default 0.01. */
  learningRate?: number;
  /** L2 penalty on the weights. Default 1e-4. */
  weightDecay?: number;
  numClasses?: number;
  seed?: number;
}

export interface LinearProbeResult {
  accuracy: number;
  trainAccuracy: number;
  predictions: Int32Array;
}

/**
 * The linear evaluation protocol: a multinomial logistic regression trained on frozen
 * embeddings (standardised with the training mean and std), scored on the test embeddings.
 */
export function linearProbe(
  train: { embeddings: tf.Tensor; labels: Int32Array },
  test: { embeddings: tf.Tensor; labels: Int32Array },
  options: LinearProbeOptions = {},
): LinearProbeResult {
  const {
    epochs = 30,
    batchSize = 512,
    learningRate = 0.01,
    weightDecay = 1e-4,
    seed = 0,
  } = options;
  validate.assertFloatTensor(train.embeddings, 2, 'linearProbe: train.embeddings');
  validate.assertFloatTensor(test.embeddings, 2, 'linearProbe: test.embeddings');
  validate.assertSameDim(
    train.embeddings,
    1,
    'linearProbe: train.embeddings',
    test.embeddings,
    1,
    'linearProbe: test.embeddings',
  );
  checkLabels(train.embeddings, train.labels, 'linearProbe: train');
  checkLabels(test.embeddings, test.labels, 'linearProbe: test');
  validate.assertNumber(epochs, 'linearProbe: epochs', { min: 1, integer: true });
  const numClasses = options.numClasses ?? classCount(train.labels, test.labels);
  const [n, d] = train.embeddings.shape as [number, number];
  const rng = new Rng(seed);

  const { mean, variance } = tf.moments(train.embeddings, 0);
  const std = tf.tidy(() => tf.sqrt(tf.add(variance, 1e-6)));
  const standardise = (x: tf.Tensor) => tf.div(tf.sub(x, mean), std);
  const xTrain = tf.tidy(() => standardise(train.embeddings));
  const yTrain = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(train.labels, 'int32'), numClasses), 'float32'),
  );
  // Inside tidy so the zeros the variables are made from are freed.
  const w = tf.tidy(() => tf.variable(tf.zeros([d, numClasses])));
  const b = tf.tidy(() => tf.variable(tf.zeros([numClasses])));
  const optimizer = tf.train.adam(learningRate);
  const predict = (x: tf.Tensor) => tf.argMax(tf.add(tf.matMul(x, w), b), 1);
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = rng.permutation(n);
      for (let start = 0; start < n; start += batchSize) {
        const idx = tf.tensor1d(order.subarray(start, Math.min(n, start + batchSize)), 'int32');
        optimizer.minimize(() => {
          const x = tf.gather(xTrain, idx);
          const y = tf.gather(yTrain, idx);
          const logits = tf.add(tf.matMul(x, w), b);
          const ce = tf.losses.softmaxCrossEntropy(y, logits);
          return tf.add(ce, tf.mul(weightDecay, tf.sum(tf.square(w)))) as tf.Scalar;
        });
        idx.dispose();
      }
    }
    const trainPred = tf.tidy(() => predict(xTrain));
    const testPred = tf.tidy(() => predict(standardise(test.embeddings)));
    const predictions = Int32Array.from(testPred.dataSync());
    const trainAccuracy = accuracy(trainPred.dataSync(), train.labels);
    tf.dispose([trainPred, testPred]);
    return { accuracy: accuracy(predictions, test.labels), trainAccuracy, predictions };
  } finally {
    tf.dispose([mean, variance, std, xTrain, yTrain, w, b]);
    optimizer.dispose();
  }
}
