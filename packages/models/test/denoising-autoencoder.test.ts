import { EbmError } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { DenoisingAutoencoder, mlpEncoder } from '../src/index.js';

useCpuBackend();

describe('DenoisingAutoencoder', () => {
  it('has energy ‖x − D(E(x))‖² per sample', () => {
    const dae = DenoisingAutoencoder.mlp({ inputDim: 6, hiddenUnits: [8], latentDim: 2, seed: 1 });
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 2);
    const e = dae.energy(x);
    const r = dae.reconstruct(x);
    const xs = x.arraySync() as number[][];
    const rs = r.arraySync() as number[][];
    expect(e.shape).toEqual([4]);
    expectClose(
      e.dataSync(),
      xs.map((row, i) => row.reduce((s, v, j) => s + (v - rs[i]![j]!) ** 2, 0)),
      { atol: 1e-4, rtol: 1e-5 },
    );
    expect(dae.encoder.outputs[0]!.shape).toEqual([null, 2]);
    expect(dae.decoder.outputs[0]!.shape).toEqual([null, 6]);
    tf.dispose([x, e, r]);
  });

  it('corrupts with seeded Gaussian or masking noise', () => {
    const x = tf.ones([200, 50]);
    const g = DenoisingAutoencoder.mlp({
      inputDim: 50,
      latentDim: 2,
      noise: { type: 'gaussian', std: 0.5 },
    });
    const noisy = g.corrupt(x, 7);
    const diff = tf.sub(noisy, x);
    const { mean, variance } = tf.moments(diff);
    expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(0.02);
    expect(Math.sqrt(variance.dataSync()[0]!)).toBeCloseTo(0.5, 1);
    expect(Array.from(g.corrupt(x, 7).dataSync())).toEqual(Array.from(noisy.dataSync()));
    const m = DenoisingAutoencoder.mlp({
      inputDim: 50,
      latentDim: 2,
      noise: { type: 'mask', rate: 0.3 },
    });
    const masked = Array.from(m.corrupt(x, 8).dataSync());
    expect(new Set(masked)).toEqual(new Set([0, 1]));
    const zeroed = masked.reduce((s, v) => s + (v === 0 ? 1 : 0), 0) / masked.length;
    expect(zeroed).toBeGreaterThan(0.27);
    expect(zeroed).toBeLessThan(0.33);
    expect(() =>
      DenoisingAutoencoder.mlp({ inputDim: 5, noise: { type: 'mask', rate: 2 } }),
    ).toThrow(EbmError);
    tf.dispose([x, noisy, diff, mean, variance]);
  });

  it('loss(x, seed) is the mean reconstruction error of the corrupted input', () => {
    const dae = DenoisingAutoencoder.mlp({
      inputDim: 5,
      latentDim: 3,
      noise: { type: 'gaussian', std: 0.2 },
    });
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 3);
    const loss = dae.loss(x, 99);
    const manual = tf.tidy(() => {
      const r = dae.reconstruct(dae.corrupt(x, 99), true);
      return tf.mean(tf.sum(tf.square(tf.sub(x, r)), 1));
    });
    expectClose(loss.dataSync()[0]!, manual.dataSync()[0]!, { atol: 1e-5 });
    tf.dispose([x, loss, manual]);
  });

  it('learns a low energy on the data manifold and a higher one off it', () => {
    // data on a line through R^4; off-manifold points are moved along a normal direction
    const dae = DenoisingAutoencoder.mlp({
      inputDim: 4,
      hiddenUnits: [16],
      latentDim: 1,
      noise: { type: 'gaussian', std: 0.3 },
      seed: 5,
    });
    const dir = tf.tensor2d([[0.5, 0.5, 0.5, 0.5]]);
    const normal = tf.tensor2d([[0.5, -0.5, 0.5, -0.5]]);
    const t = tf.randomUniform([64, 1], -2, 2, 'float32', 6);
    const data = tf.matMul(t, dir);
    const opt = tf.train.adam(0.02);
    const first = dae.loss(data, 0).dataSync()[0]!;
    for (let i = 0; i < 150; i++)
      tf.dispose(opt.minimize(() => dae.loss(data), true, dae.trainableVariables) ?? []);
    const last = dae.loss(data, 0).dataSync()[0]!;
    expect(last).toBeLessThan(first * 0.5);
    const probe = tf.matMul(tf.reshape(tf.linspace(-1.5, 1.5, 7), [7, 1]), dir);
    const on = dae.energy(probe).dataSync();
    const off = dae.energy(tf.add(probe, tf.mul(normal, 1))).dataSync();
    const half = dae.energy(tf.add(probe, tf.mul(normal, 0.5))).dataSync();
    for (let i = 0; i < 7; i++) {
      expect(off[i]!).toBeGreaterThan(on[i]! + 0.3);
      // roughly quadratic in the distance: d = 1 costs about 4× d = 0.5
      expect(off[i]! / half[i]!).toBeGreaterThan(2.5);
    }
    opt.dispose();
  });

  it('accepts custom encoder/decoder pairs and checks they fit', () => {
    const encoder = mlpEncoder({ inputShape: [3, 3], hiddenUnits: [], embeddingDim: 2 });
    const input = tfl.input({ shape: [2] });
    const out = tfl.layers
      .reshape({ targetShape: [3, 3] })
      .apply(tfl.layers.dense({ units: 9 }).apply(input));
    const decoder = tfl.model({ inputs: input, outputs: out as tfl.SymbolicTensor });
    const dae = new DenoisingAutoencoder({ encoder, decoder, noise: { type: 'mask', rate: 0.25 } });
    const x = tf.ones([2, 3, 3]);
    expect(dae.energy(x).shape).toEqual([2]);
    expect(() => dae.energy(tf.ones([2, 9]))).toThrow(EbmError);
    const bad = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 4 }).apply(input) as tfl.SymbolicTensor,
    });
    expect(() => new DenoisingAutoencoder({ encoder, decoder: bad })).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    x.dispose();
  });

  it('energy and training steps leak nothing', async () => {
    const dae = DenoisingAutoencoder.mlp({ inputDim: 5, latentDim: 2 });
    const x = tf.ones([3, 5]);
    const opt = tf.train.sgd(0.01);
    await expectNoTensorLeak(() => dae.energy(x));
    await expectNoTensorLeak(() => opt.minimize(() => dae.loss(x), true, dae.trainableVariables));
  });
});
