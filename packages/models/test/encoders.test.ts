import { EbmError } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { convEncoder, describeEncoder, L2Normalize, mlpEncoder, resnet18 } from '../src/index.js';
import {
  EXPORTABLE,
  expectTrains,
  layerClasses,
  norms,
  trainableCount,
  variablesOf,
} from './helpers.js';

useCpuBackend();

const mse = (y: tf.Tensor, target: tf.Tensor) => tf.mean(tf.square(tf.sub(y, target))) as tf.Scalar;

describe('mlpEncoder', () => {
  it('flattens, names its input and output, and has the expected parameter count', () => {
    const enc = mlpEncoder({ inputShape: [4, 4], hiddenUnits: [8], embeddingDim: 16 });
    expect(enc.embeddingDim).toBe(16);
    expect(enc.inputShape).toEqual([4, 4]);
    expect(enc.model.inputNames).toEqual(['input']);
    expect(enc.model.outputNames).toEqual(['embedding']);
    expect(enc.model.countParams()).toBe(16 * 8 + 8 + (8 * 16 + 16));
    const y = tf.tidy(() => enc.model.predict(tf.ones([3, 4, 4])) as tf.Tensor);
    expect(y.shape).toEqual([3, 16]);
    y.dispose();
    const bn = mlpEncoder({ inputShape: 16, hiddenUnits: [8], embeddingDim: 16, batchNorm: true });
    // no Dense bias before BN; BN has gamma, beta (trainable) and moving mean/variance
    expect(bn.model.countParams()).toBe(16 * 8 + 4 * 8 + (8 * 16 + 16));
    expect(trainableCount(bn.model)).toBe(16 * 8 + 2 * 8 + (8 * 16 + 16));
    expect(describeEncoder(bn.model).embeddingDim).toBe(16);
  });

  it('is reproducible from its seed and differs across seeds', () => {
    const w = (seed: number) => {
      const m = mlpEncoder({ inputShape: 6, hiddenUnits: [5, 5], embeddingDim: 4, seed }).model;
      const values = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      return values;
    };
    const a = w(7);
    expect(w(7)).toEqual(a);
    expect(w(8)).not.toEqual(a);
    // the two hidden layers have the same shape but independent initial weights
    expect(a[2]).not.toEqual(a[0]!.slice(0, 25));
  });

  it('L2-normalises through the registered L2Normalize layer', () => {
    const enc = mlpEncoder({ inputShape: 5, hiddenUnits: [], embeddingDim: 3, l2Normalize: true });
    expect(enc.model.outputNames).toEqual(['embedding']);
    const last = enc.model.layers[enc.model.layers.length - 1]!;
    expect(last).toBeInstanceOf(L2Normalize);
    expect(last.getClassName()).toBe('L2Normalize');
    const y = tf.tidy(
      () => enc.model.predict(tf.randomNormal([4, 5], 0, 10, 'float32', 1)) as tf.Tensor,
    );
    expectClose(norms(y), [1, 1, 1, 1], { atol: 1e-5 });
    y.dispose();
  });

  it('trains: gradients reach every weight and SGD lowers a regression loss', () => {
    const enc = mlpEncoder({
      inputShape: 6,
      hiddenUnits: [8],
      embeddingDim: 3,
      batchNorm: true,
      seed: 1,
    });
    const x = tf.randomNormal([8, 6], 0, 1, 'float32', 2);
    const target = tf.randomNormal([8, 3], 0, 1, 'float32', 3);
    expectTrains(variablesOf(enc.model), () =>
      tf.tidy(() => mse(enc.model.apply(x, { training: true }) as tf.Tensor, target)),
    );
  });

  it('rejects bad options with EbmError', () => {
    expect(() => mlpEncoder({ inputShape: 0 })).toThrow(EbmError);
    expect(() => mlpEncoder({ inputShape: [3], hiddenUnits: [2.5] })).toThrow(/hiddenUnits\[0\]/);
    expect(() => mlpEncoder({ inputShape: [3], name: 'bad/name' })).toThrow(EbmError);
  });
});

describe('convEncoder', () => {
  const convParams = (inC: number, channels: number[]) => {
    let total = 0;
    let trainable = 0;
    let c = inC;
    for (const f of channels) {
      total += 9 * c * f + 4 * f;
      trainable += 9 * c * f + 2 * f;
      c = f;
    }
    return { total, trainable };
  };

  it('defaults to 28×28×1 → 128 with 3 conv-BN-ReLU blocks (93,344 parameters)', () => {
    const enc = convEncoder();
    expect(enc.embeddingDim).toBe(128);
    expect(enc.model.inputNames).toEqual(['image']);
    expect(enc.model.outputNames).toEqual(['embedding']);
    expect(enc.model.countParams()).toBe(93_344);
    expect(convParams(1, [32, 64, 128])).toEqual({ total: 93_344, trainable: 92_896 });
    expect(trainableCount(enc.model)).toBe(92_896);
    const y = tf.tidy(() => enc.model.predict(tf.ones([1, 28, 28, 1])) as tf.Tensor);
    expect(y.shape).toEqual([1, 128]);
    y.dispose();
    for (const c of layerClasses(enc.model)) expect(EXPORTABLE.has(c), c).toBe(true);
    enc.model.dispose();
  });

  it('takes 32×32×3 and an optional Dense embedding', () => {
    const enc = convEncoder({ inputShape: [32, 32, 3], embeddingDim: 64 });
    expect(enc.embeddingDim).toBe(64);
    expect(enc.model.countParams()).toBe(convParams(3, [32, 64, 128]).total + 128 * 64 + 64);
    expect(enc.model.outputs[0]!.shape).toEqual([null, 64]);
    const spatial = enc.model.layers
      .filter((l) => l.getClassName() === 'MaxPooling2D')
      .map((l) => l.outputShape);
    expect(spatial).toEqual([
      [null, 16, 16, 32],
      [null, 8, 8, 64],
    ]);
    enc.model.dispose();
  });

  it('trains on tiny images: forward, backward and SGD on the cpu backend', () => {
    const enc = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], embeddingDim: 3, seed: 3 });
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 4);
    const target = tf.randomNormal([4, 3], 0, 1, 'float32', 5);
    const loss = () =>
      tf.tidy(() => mse(enc.model.apply(x, { training: true }) as tf.Tensor, target));
    expectTrains(variablesOf(enc.model), loss);
  });

  it('runs fully convolutionally with free spatial sizes', () => {
    const enc = convEncoder({ inputShape: [null, null, 1], channels: [2, 3] });
    const a = tf.tidy(() => enc.model.predict(tf.ones([1, 6, 6, 1])) as tf.Tensor);
    const b = tf.tidy(() => enc.model.predict(tf.ones([1, 9, 5, 1])) as tf.Tensor);
    expect(a.shape).toEqual([1, 3]);
    expect(b.shape).toEqual([1, 3]);
    tf.dispose([a, b]);
  });

  it('inference and training steps leak no tensors', async () => {
    const enc = convEncoder({ inputShape: [8, 8, 1], channels: [2, 4] });
    const x = tf.ones([2, 8, 8, 1]);
    await expectNoTensorLeak(() => enc.model.predict(x));
    const opt = tf.train.sgd(0.01);
    const vars = variablesOf(enc.model);
    await expectNoTensorLeak(() =>
      opt.minimize(
        () =>
          tf.tidy(() => tf.mean(enc.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar),
        true,
        vars,
      ),
    );
  });

  it('rejects bad shapes', () => {
    expect(() => convEncoder({ inputShape: [28, 28] })).toThrow(EbmError);
    expect(() => convEncoder({ inputShape: [28, 28, null] })).toThrow(/channels/);
    expect(() => convEncoder({ channels: [] })).toThrow(EbmError);
  });
});

describe('resnet18', () => {
  it('has 11.17M trainable parameters with the CIFAR stem (≈11.2M with BN statistics)', () => {
    const enc = resnet18();
    expect(enc.embeddingDim).toBe(512);
    expect(trainableCount(enc.model)).toBe(11_168_832);
    expect(enc.model.countParams()).toBe(11_178_432);
    expect(enc.model.countParams() / 1e6).toBeCloseTo(11.2, 1);
    const stem = enc.model.getLayer('resnet18_stem_conv');
    expect(stem.getConfig()['kernelSize']).toEqual([3, 3]);
    expect(stem.getConfig()['strides']).toEqual([1, 1]);
    expect(layerClasses(enc.model).has('MaxPooling2D')).toBe(false);
    expect(enc.model.layers.filter((l) => l.getClassName() === 'Add')).toHaveLength(8);
    for (const c of layerClasses(enc.model)) expect(EXPORTABLE.has(c), c).toBe(true);
    const y = tf.tidy(
      () => enc.model.predict(tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1)) as tf.Tensor,
    );
    expect(y.shape).toEqual([1, 512]);
    expect(tf.tidy(() => tf.all(tf.isFinite(y))).dataSync()[0]).toBe(1);
    tf.dispose(y);
    enc.model.dispose();
  });

  it('matches torchvision (11,176,512) with the ImageNet stem', () => {
    const enc = resnet18({ inputShape: [64, 64, 3], stem: 'imagenet' });
    expect(trainableCount(enc.model)).toBe(11_176_512);
    const stem = enc.model.getLayer('resnet18_stem_conv');
    expect(stem.getConfig()['kernelSize']).toEqual([7, 7]);
    expect(stem.getConfig()['strides']).toEqual([2, 2]);
    expect(enc.model.getLayer('resnet18_stem_pool').outputShape).toEqual([null, 16, 16, 64]);
    expect(enc.model.getLayer('embedding').inboundNodes[0]!.inputShapes).toEqual([
      [null, 2, 2, 512],
    ]);
    enc.model.dispose();
  });

  it('scales with width and trains on tiny inputs', () => {
    const enc = resnet18({ inputShape: [8, 8, 1], width: 2, embeddingDim: 4, seed: 9 });
    expect(enc.embeddingDim).toBe(4);
    expect(enc.model.outputs[0]!.shape).toEqual([null, 4]);
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 6);
    const target = tf.randomNormal([4, 4], 0, 1, 'float32', 7);
    const loss = () =>
      tf.tidy(() => mse(enc.model.apply(x, { training: true }) as tf.Tensor, target));
    expectTrains(variablesOf(enc.model), loss, { steps: 3, learningRate: 0.01 });
  });

  it('rejects an unknown stem', () => {
    expect(() => resnet18({ stem: 'tiny' as 'cifar' })).toThrow(/stem/);
  });
});
