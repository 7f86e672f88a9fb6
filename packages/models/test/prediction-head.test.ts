import { EbmError } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { predictionHead } from '../src/index.js';
import { EXPORTABLE, expectTrains, layerClasses, trainableCount, variablesOf } from './helpers.js';

useCpuBackend();

describe('predictionHead', () => {
  it('is the papers’ Linear-BN-ReLU-Linear, projection in and prediction out', () => {
    // SimSiam's bottleneck shape, scaled down: 16 → 4 → 16.
    const head = predictionHead({ inputDim: 16, hiddenDim: 4 });
    expect(head.inputDim).toBe(16);
    expect(head.outputDim).toBe(16);
    expect(head.model.name).toBe('prediction_head');
    expect(head.model.inputNames).toEqual(['projection']);
    expect(head.model.outputNames).toEqual(['prediction']);
    expect(head.model.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'Dense',
      'BatchNormalization',
      'Activation',
      'Dense',
    ]);
    // The hidden Dense has no bias (BN follows it); the output Dense has one; no BN on the output.
    expect(trainableCount(head.model)).toBe(16 * 4 + 2 * 4 + (4 * 16 + 16));
    expect(head.model.countParams()).toBe(16 * 4 + 4 * 4 + (4 * 16 + 16));
    for (const c of layerClasses(head.model)) expect(EXPORTABLE.has(c), c).toBe(true);
    const wide = predictionHead({ inputDim: 8, hiddenDim: 32, outputDim: 6 });
    const y = tf.tidy(() => wide.model.predict(tf.ones([3, 8])) as tf.Tensor);
    expect(y.shape).toEqual([3, 6]);
    y.dispose();
    head.model.dispose();
    wide.model.dispose();
  });

  it('normalises with batch statistics in training and moving ones in inference', () => {
    const head = predictionHead({ inputDim: 6, hiddenDim: 5, seed: 3 });
    const x = tf.randomNormal([8, 6], 2, 3, 'float32', 1);
    const bn = head.model.layers[2]!;
    const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
    const train = tf.tidy(() => head.model.apply(x, { training: true }) as tf.Tensor);
    const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
    // A training call moved the moving mean/variance (weights 2 and 3) but not γ, β.
    expect(after.slice(0, 2)).toEqual(before.slice(0, 2));
    expect(after[2]).not.toEqual(before[2]);
    // Batch statistics: the hidden activations of a training call have zero batch mean before
    // the ReLU, so shifting every row by the same vector leaves the training output unchanged,
    // while the inference output changes.
    const shifted = tf.add(x, tf.tensor1d([1, -2, 3, 0.5, 4, -1]));
    const trainShifted = tf.tidy(() => head.model.apply(shifted, { training: true }) as tf.Tensor);
    expectClose(trainShifted.dataSync(), train.dataSync(), { atol: 1e-4 });
    const inferA = tf.tidy(() => head.model.predict(x) as tf.Tensor);
    const inferB = tf.tidy(() => head.model.predict(shifted) as tf.Tensor);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(inferA, inferB))).dataSync()[0]!)).toBeGreaterThan(
      1e-2,
    );
    tf.dispose([x, shifted, train, trainShifted, inferA, inferB]);
    head.model.dispose();
  });

  it('trains, leaks no tensors and checks its options', async () => {
    const head = predictionHead({ inputDim: 5, hiddenDim: 7, outputDim: 3, seed: 2 });
    const x = tf.randomNormal([8, 5], 0, 1, 'float32', 3);
    const target = tf.randomNormal([8, 3], 0, 1, 'float32', 4);
    const loss = () =>
      tf.tidy(() => {
        const p = head.model.apply(x, { training: true }) as tf.Tensor;
        return tf.mean(tf.square(tf.sub(p, target))) as tf.Scalar;
      });
    expectTrains(variablesOf(head.model), loss);
    await expectNoTensorLeak(() =>
      tf.tidy(() => head.model.apply(x, { training: true }) as tf.Tensor),
    );
    await expectNoTensorLeak(() => head.model.predict(x));
    tf.dispose([x, target]);
    head.model.dispose();
    expect(() => predictionHead({ inputDim: 0 })).toThrow(EbmError);
    expect(() => predictionHead({ inputDim: 4, hiddenDim: 2.5 })).toThrow(
      /predictionHead: hiddenDim/,
    );
    expect(() => predictionHead({} as never)).toThrow(/predictionHead: inputDim/);
  });
});
