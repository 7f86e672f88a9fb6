import { EbmError } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { MomentumEncoder, mlpEncoder, projectionHead } from '../src/index.js';
import { variablesOf } from './helpers.js';

useCpuBackend();

/** Weight values by original name, so differently ordered weight lists compare. */
const snapshot = (m: tfl.LayersModel) =>
  new Map(m.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));

const build = () => {
  const enc = mlpEncoder({
    inputShape: 4,
    hiddenUnits: [6],
    embeddingDim: 5,
    batchNorm: true,
    seed: 1,
  });
  const head = projectionHead({ inputDim: 5, hiddenDim: 5, outputDim: 3, seed: 2 });
  return { enc, head };
};

/** A few SGD steps in training mode, which move parameters and BN moving statistics. */
const train = (models: tfl.LayersModel[], seed: number) => {
  const x = tf.randomNormal([6, 4], 0, 1, 'float32', seed);
  const opt = tf.train.sgd(0.1);
  const vars = models.flatMap(variablesOf);
  for (let i = 0; i < 2; i++) {
    tf.dispose(
      opt.minimize(
        () =>
          tf.tidy(() => {
            const z = models.reduce<tf.Tensor>(
              (h, m) => m.apply(h, { training: true }) as tf.Tensor,
              x,
            );
            return tf.mean(tf.square(tf.sub(z, 1))) as tf.Scalar;
          }),
        true,
        vars,
      ) ?? [],
    );
  }
  x.dispose();
  opt.dispose();
};

describe('MomentumEncoder', () => {
  it('starts as a frozen copy of the online models', () => {
    const { enc, head } = build();
    const me = new MomentumEncoder([enc, head.model]);
    expect(me.targets).toHaveLength(2);
    expect(snapshot(me.targets[0]!)).toEqual(snapshot(enc.model));
    expect(snapshot(me.targets[1]!)).toEqual(snapshot(head.model));
    for (const t of me.targets) {
      expect(t.trainableWeights).toHaveLength(0);
      for (const w of t.weights) expect((w.read() as tf.Variable).trainable).toBe(false);
    }
    // distinct variables: training the online model leaves the target where it was
    const before = snapshot(me.target);
    train([enc.model, head.model], 3);
    expect(snapshot(me.target)).toEqual(before);
    expect(snapshot(enc.model)).not.toEqual(before);
  });

  it('update() applies θ_k ← m·θ_k + (1 − m)·θ_q to every weight', () => {
    const { enc, head } = build();
    const me = new MomentumEncoder([enc, head.model], { momentum: 0.9 });
    train([enc.model, head.model], 4);
    me.update(); // target ≠ online from here on
    train([enc.model, head.model], 5);
    const k0 = [snapshot(me.targets[0]!), snapshot(me.targets[1]!)];
    const q = [snapshot(enc.model), snapshot(head.model)];
    expect(me.update()).toBe(0.9);
    expect(me.step).toBe(2);
    [0, 1].forEach((i) => {
      for (const [name, after] of snapshot(me.targets[i]!)) {
        const k = k0[i]!.get(name)!;
        const qv = q[i]!.get(name)!;
        expect(k).not.toEqual(qv);
        expectClose(
          after,
          k.map((v, j) => 0.9 * v + 0.1 * qv[j]!),
          { atol: 1e-6, rtol: 1e-6 },
        );
      }
    });
  });

  it("copies BN statistics with nonTrainable: 'copy'", () => {
    const { enc } = build();
    const me = new MomentumEncoder(enc, { momentum: 0.5, nonTrainable: 'copy' });
    train([enc.model], 6);
    me.update();
    const online = snapshot(enc.model);
    for (const [name, value] of snapshot(me.target)) {
      if (name.includes('moving')) expect(value).toEqual(online.get(name));
      else expect(value).not.toEqual(online.get(name));
    }
  });

  it('recordUpdate() advances the step and schedule as update() does, writing no weight', () => {
    const { enc } = build();
    const me = new MomentumEncoder(enc, { momentum: 0.99, schedule: 'cosine', totalSteps: 100 });
    train([enc.model], 3);
    const before = snapshot(me.target);
    expect(me.recordUpdate()).toBeCloseTo(0.99, 12);
    expect(me.recordUpdate()).toBeCloseTo(me.momentumAt(1), 12);
    expect(me.step).toBe(2);
    expect(snapshot(me.target)).toEqual(before);
    me.dispose();
  });

  it('follows the cosine schedule from the base momentum to 1', () => {
    const { enc } = build();
    const me = new MomentumEncoder(enc, { momentum: 0.99, schedule: 'cosine', totalSteps: 100 });
    expect(me.momentumAt(0)).toBeCloseTo(0.99, 12);
    expect(me.momentumAt(50)).toBeCloseTo(0.995, 12);
    expect(me.momentumAt(25)).toBeCloseTo(1 - (0.01 * (Math.cos(Math.PI / 4) + 1)) / 2, 12);
    expect(me.momentumAt(100)).toBe(1);
    expect(me.momentumAt(500)).toBe(1);
    expect(me.update()).toBeCloseTo(0.99, 12);
    expect(me.update()).toBeCloseTo(1 - (0.01 * (Math.cos(Math.PI / 100) + 1)) / 2, 12);
    // An explicit momentum overrides the schedule for one update (trainBYOL's own plan).
    const k = snapshot(me.target);
    train([enc.model], 7);
    const q = snapshot(enc.model);
    expect(me.update(0.25)).toBe(0.25);
    expect(me.step).toBe(3);
    for (const [name, after] of snapshot(me.target))
      expectClose(
        after,
        k.get(name)!.map((v, j) => 0.25 * v + 0.75 * q.get(name)![j]!),
        { atol: 1e-6, rtol: 1e-6 },
      );
    expect(() => me.update(1.5)).toThrow(/MomentumEncoder.update: momentum/);
    expect(() => new MomentumEncoder(enc, { schedule: 'cosine' })).toThrow(/totalSteps/);
    expect(() => new MomentumEncoder(enc, { momentum: 1.5 })).toThrow(EbmError);
  });

  it('runs keys through encoder then head, and works with Sequential models', () => {
    const { enc, head } = build();
    const me = new MomentumEncoder([enc, head.model]);
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 7);
    const keys = me.apply(x);
    const direct = tf.tidy(
      () => head.model.predict(enc.model.predict(x) as tf.Tensor) as tf.Tensor,
    );
    expectClose(keys.dataSync(), direct.dataSync(), { atol: 1e-6 });
    const seq = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [4] })] });
    const me2 = new MomentumEncoder(seq);
    expect(me2.target.getClassName()).toBe('Sequential');
    expect(() => new MomentumEncoder({} as tfl.LayersModel)).toThrow(EbmError);
    const y = me2.apply(x);
    const y0 = tf.tidy(() => seq.predict(x) as tf.Tensor);
    expectClose(y.dataSync(), y0.dataSync(), { atol: 1e-6 });
    tf.dispose([x, keys, direct, y, y0]);
    me.dispose();
    expect(() => me.update()).toThrow(EbmError);
  });

  it('update() and apply() leak no tensors', async () => {
    const { enc, head } = build();
    const me = new MomentumEncoder([enc, head.model], { momentum: 0.9 });
    await expectNoTensorLeak(() => me.update(), 5);
    const x = tf.ones([2, 4]);
    await expectNoTensorLeak(() => me.apply(x));
  });
});
