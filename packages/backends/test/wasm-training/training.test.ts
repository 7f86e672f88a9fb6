import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareBackends, setupBackends, TARGET, values } from './compare.js';
import { tinyConvNet, tinyResNet18 } from './nets.js';

beforeAll(setupBackends);

/** Softmax cross-entropy of a linear read-out of the encoder's features against fixed labels. */
function lossOf(encoder: tfl.LayersModel, readout: tf.Variable, x: tf.Tensor, labels: tf.Tensor) {
  const features = encoder.apply(x, { training: true }) as tf.Tensor;
  return tf.losses.softmaxCrossEntropy(labels, tf.matMul(features, readout));
}

async function train(encoder: tfl.LayersModel, featureDim: number, inputShape: number[]) {
  await tf.setBackend(TARGET);
  const batch = 8;
  const classes = 4;
  const x = tf.tensor(values({ shape: [batch, ...inputShape] }, 3), [batch, ...inputShape]);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), classes);
  const readout = tf.variable(
    tf.tensor(values({ shape: [featureDim, classes] }, 4), [featureDim, classes]),
  );
  const optimizer = tf.train.adam(0.01);
  const vars = [...encoder.trainableWeights.map((w) => w.read() as tf.Variable), readout];
  const losses: number[] = [];
  const tensorsAfter: number[] = [];
  for (let step = 0; step < 20; step++) {
    const loss = optimizer.minimize(
      () => lossOf(encoder, readout, x, labels) as tf.Scalar,
      true,
      vars,
    );
    losses.push((await loss!.data())[0]!);
    loss!.dispose();
    tensorsAfter.push(tf.memory().numTensors);
  }
  optimizer.dispose();
  tf.dispose([x, labels, readout]);
  return { losses, tensorsAfter };
}

describe(`conv nets train on the ${TARGET} backend (with ebm.js kernels on wasm)`, () => {
  it('a ConvNet (3 conv-BN-ReLU blocks) : the loss falls over 20 steps, no tensor leaks', async () => {
    const net = tinyConvNet([12, 12, 3], [8, 16, 16], 1);
    const { losses, tensorsAfter } = await train(net, 16, [12, 12, 3]);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(0.5 * losses[0]!);
    expect(tensorsAfter[19]).toBe(tensorsAfter[1]);
    net.dispose();
  });

  it('ResNet-18 (CIFAR stem): the loss falls over 20 steps, no tensor leaks', async () => {
    const net = tinyResNet18([8, 8, 3], 4, 10);
    const { losses, tensorsAfter } = await train(net, 32, [8, 8, 3]);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(0.5 * losses[0]!);
    expect(tensorsAfter[19]).toBe(tensorsAfter[1]);
    net.dispose();
  });
});

describe(`whole-network gradients on ${TARGET} match the cpu backend`, () => {
  it('ResNet-18 (CIFAR stem, width 4): loss and every weight gradient', async () => {
    // One net, built once; its weights move between backends with the data.
    const net = tinyResNet18([8, 8, 3], 4, 20);
    const weights = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const { relErrors } = await compareBackends(
      [{ shape: [4, 8, 8, 3] }, { shape: [32, 3] }],
      // tidy: tfjs-layers' BatchNormalization leaves one tensor per training call outside one.
      (x, readout) =>
        tf.tidy(() => {
          const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
          const { value, grads } = tf.variableGrads(
            () => lossOf(net, readout as tf.Variable, x!, labels) as tf.Scalar,
            weights,
          );
          return [value, ...weights.map((w) => grads[w.name]!)];
        }),
    );
    expect(relErrors).toHaveLength(weights.length + 1);
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
    net.dispose();
  });
});
