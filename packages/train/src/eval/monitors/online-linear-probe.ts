import { EbmError, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../../datasets/dataset.js';
import { accuracy } from '../knn.js';
import { evaluationClassCount } from '../knn-accuracy.js';
import { checkLabelled } from './check-labelled.js';
import type { Monitor } from './monitor.js';

export interface OnlineLinearProbeOptions {
  /** Labelled images the head trains on. */
  train: ImageDataset;
  /** Labelled images it is scored on. */
  test: ImageDataset;
  /** Train and measure after every this many epochs (and after the plan's last). Default 1. */
  every?: number;
  /** Adam learning rate of the head (its own optimizer). Default 0.01. */
  lr?: number;
  /** Head updates per measurement. Default 100. */
  stepsPerEpoch?: number;
  /** Embeddings per head update. Default 256 (at most the training images). */
  batchSize?: number;
  /** Seeds the head's batch order. Default 0. */
  seed?: number;
}

/**
 * lightly's OnlineLinearClassifier idea, at epoch granularity: a linear head (softmax
 * regression) kept across the whole run, warm-started at each measurement, with its own Adam,
 * trained for `stepsPerEpoch` steps on the current encoder's embeddings of labelled training
 * images (standardised with their mean and std at that measurement), then scored on the test images as `linearProbe` (a fraction). The embeddings come from
 * the monitor context, computed in inference mode outside any gradient tape, and the updates
 * name only the head's variables: nothing reaches the encoder. The head is not in the run's
 * checkpoint (a resumed run starts a fresh one); `dispose()` frees it.
 */
export function onlineLinearProbe(options: OnlineLinearProbeOptions): Monitor {
  const { every = 1, lr = 0.01, stepsPerEpoch = 100, batchSize = 256, seed = 0 } = options;
  validate.assertNumber(every, 'onlineLinearProbe: every', { min: 1, integer: true });
  validate.assertNumber(lr, 'onlineLinearProbe: lr', { min: 0, exclusiveMin: true });
  validate.assertNumber(stepsPerEpoch, 'onlineLinearProbe: stepsPerEpoch', {
    min: 1,
    integer: true,
  });
  validate.assertNumber(batchSize, 'onlineLinearProbe: batchSize', { min: 1, integer: true });
  const train = checkLabelled(options.train, 'onlineLinearProbe: train');
  const test = checkLabelled(options.test, 'onlineLinearProbe: test');
  const numClasses = evaluationClassCount(train, test);
  const n = train.labels.length;
  const size = Math.min(batchSize, n);
  const rng = new Rng(seed);
  // Created at the first measurement, when the embedding size is known.
  let head: Head | undefined;
  let order = rng.permutation(n);
  let position = 0;
  const nextBatch = (): Int32Array => {
    if (position + size > n) {
      order = rng.permutation(n);
      position = 0;
    }
    position += size;
    return order.subarray(position - size, position);
  };

  return {
    name: 'onlineLinearProbe',
    every,
    measure(context) {
      const trainEmb = context.embed(train);
      head ??= createHead(trainEmb.shape[1], numClasses, train.labels, lr);
      if (head.w.shape[0] !== trainEmb.shape[1])
        throw new EbmError(
          'SHAPE_MISMATCH',
          `onlineLinearProbe: expected embeddings of size ${head.w.shape[0]} (the head's), received ${trainEmb.shape[1]}.`,
        );
      const { w, b, optimizer, labels } = head;
      // Standardised with this measurement's training moments, as linearProbe does: the
      // features of an encoder early in training can differ by tiny amounts only.
      const { mean, variance } = tf.moments(trainEmb, 0);
      const std = tf.tidy(() => tf.sqrt(tf.add(variance, 1e-6)));
      const standardise = (x: tf.Tensor) => tf.div(tf.sub(x, mean), std);
      const xTrain = tf.tidy(() => standardise(trainEmb));
      try {
        for (let s = 0; s < stepsPerEpoch; s++) {
          const idx = tf.tensor1d(nextBatch(), 'int32');
          try {
            // The embeddings are constants here: only w and b receive gradients.
            optimizer.minimize(
              () => {
                const logits = tf.add(tf.matMul(tf.gather(xTrain, idx), w), b);
                const y = tf.cast(tf.oneHot(tf.gather(labels, idx), numClasses), 'float32');
                return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
              },
              false,
              [w, b],
            );
          } finally {
            idx.dispose();
          }
        }
        const testEmb = context.embed(test);
        const predicted = tf.tidy(() =>
          tf.argMax(tf.add(tf.matMul(standardise(testEmb), w), b), 1),
        );
        const predictions = predicted.dataSync();
        predicted.dispose();
        return { linearProbe: accuracy(predictions, test.labels) };
      } finally {
        tf.dispose([mean, variance, std, xTrain]);
      }
    },
    dispose() {
      if (!head) return;
      head.optimizer.dispose();
      tf.dispose([head.w, head.b, head.labels]);
      head = undefined;
    },
  };
}

interface Head {
  w: tf.Variable;
  b: tf.Variable;
  optimizer: tf.Optimizer;
  /** The training labels, on the backend once for the whole run. */
  labels: tf.Tensor1D;
}

function createHead(d: number, numClasses: number, labels: Int32Array, lr: number): Head {
  // Inside tidy so the zeros the variables are made from are freed.
  const w = tf.tidy(() => tf.variable(tf.zeros([d, numClasses])));
  const b = tf.tidy(() => tf.variable(tf.zeros([numClasses])));
  return { w, b, optimizer: tf.train.adam(lr), labels: tf.tensor1d(labels, 'int32') };
}
