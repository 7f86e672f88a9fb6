import { EbmError, Rng } from '@ebmjs/core';
import { expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { MomentumEncoder } from '../src/index.js';
import { inversePermutation, shufflePlan } from '../src/shuffle-bn.js';

useCpuBackend();

const EPS = 1e-5;
const N = 8;
const IN = 3;
const UNITS = 4;

/** Dense(4) [→ BatchNorm] with non-trivial γ and β, so that a wrong grouping shows. */
const build = (bn = true) => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: UNITS, inputShape: [IN], kernelInitializer: 'glorotNormal' }),
      ...(bn ? [tfl.layers.batchNormalization({ momentum: 0.9, epsilon: EPS })] : []),
    ],
  });
  if (bn) {
    const bnLayer = model.layers[1]!;
    bnLayer.setWeights([
      tf.tensor1d([1.5, 0.5, 2, 1]), // γ
      tf.tensor1d([0.2, -0.3, 0, 1]), // β
      tf.tensor1d([0.1, 0.2, -0.1, 0]), // moving mean
      tf.tensor1d([1.2, 0.8, 1, 2]), // moving variance
    ]);
  }
  return model;
};

const input = () => tf.randomNormal([N, IN], 0, 2, 'float32', 11) as tf.Tensor2D;

/** By hand: Dense, then BatchNorm with the statistics of each group's rows. */
const byHand = (model: tfl.LayersModel, x: number[][], groups: number[][]) => {
  const [kernel, bias, gamma, beta] = model.getWeights().map((w) => w.arraySync()) as [
    number[][],
    number[],
    number[],
    number[],
  ];
  const h = x.map((row) => bias.map((b, j) => row.reduce((s, v, k) => s + v * kernel[k]![j]!, b)));
  const out: number[][] = Array.from({ length: x.length }, () => []);
  for (const rows of groups) {
    for (let j = 0; j < UNITS; j++) {
      const vals = rows.map((r) => h[r]![j]!);
      const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
      const variance = vals.reduce((a, v) => a + (v - mu) ** 2, 0) / vals.length; // biased, as BN
      for (const r of rows) {
        out[r]![j] = (gamma[j]! * (h[r]![j]! - mu)) / Math.sqrt(variance + EPS) + beta[j]!;
      }
    }
  }
  return out;
};

/** The row indices of each group of a plan, in input order. */
const groupRows = (permutation: Int32Array, sizes: readonly number[]) => {
  let start = 0;
  return sizes.map((size) => {
    const rows = Array.from(permutation.slice(start, start + size));
    start += size;
    return rows;
  });
};

const movingStats = (model: tfl.LayersModel) =>
  model.layers[1]!.getWeights()
    .slice(2)
    .map((w) => Array.from(w.dataSync()));

describe('shufflePlan', () => {
  it('draws a seeded permutation whose inverse restores the original order exactly', () => {
    const plan = shufflePlan(N, 3, new Rng(5));
    expect(plan.sizes).toEqual([3, 3, 2]);
    expect(Array.from(plan.permutation).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(plan.permutation)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(shufflePlan(N, 3, new Rng(5)).permutation)).toEqual(
      Array.from(plan.permutation),
    );
    const x = input();
    const back = tf.gather(tf.gather(x, Array.from(plan.permutation)), Array.from(plan.inverse));
    expect(back.arraySync()).toEqual(x.arraySync());
    tf.dispose([x, back]);
  });

  it('rejects groups of fewer than two rows and indices that are no permutation', () => {
    const err = (() => {
      try {
        shufflePlan(5, 3, new Rng(1));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EbmError);
    expect((err as EbmError).message).toMatch(/at least 6 rows.*received 5/);
    expect(() => inversePermutation(Int32Array.from([0, 2, 2]))).toThrow(/permutation of \[0, 3\)/);
  });
});

describe('MomentumEncoder.applyTraining (Shuffle BN)', () => {
  it('unshuffles the keys to the input order exactly (a model without BatchNorm)', () => {
    const online = build(false);
    const me = new MomentumEncoder(online);
    const x = input();
    const plain = me.apply(x);
    const shuffled = me.applyTraining(x, { groups: 2, rng: new Rng(3) });
    expect(shuffled.arraySync()).toEqual(plain.arraySync());
    tf.dispose([x, plain, shuffled]);
    me.dispose();
    online.dispose();
  });

  it('normalises each group with its own statistics, which differ from the whole batch', () => {
    const online = build();
    const me = new MomentumEncoder(online);
    const x = input();
    const rows = x.arraySync() as number[][];
    const plan = shufflePlan(N, 2, new Rng(3));
    const keys = me.applyTraining(x, { groups: 2, rng: new Rng(3) });
    const got = keys.arraySync() as number[][];
    const perGroup = byHand(me.target, rows, groupRows(plan.permutation, plan.sizes));
    const whole = byHand(me.target, rows, [Array.from({ length: N }, (_, i) => i)]);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < UNITS; j++) expect(got[i]![j]!).toBeCloseTo(perGroup[i]![j]!, 4);
    }
    const gap = Math.max(...got.flatMap((r, i) => r.map((v, j) => Math.abs(v - whole[i]![j]!))));
    expect(gap).toBeGreaterThan(0.05);
    // One group is the whole batch, in any order.
    const oneGroup = me.applyTraining(x, { groups: 1, rng: new Rng(3) });
    const one = oneGroup.arraySync() as number[][];
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < UNITS; j++) expect(one[i]![j]!).toBeCloseTo(whole[i]![j]!, 4);
    }
    tf.dispose([x, keys, oneGroup]);
    me.dispose();
    online.dispose();
  });

  it('leaves the moving statistics to update(): μ_k ← m·μ_k + (1 − m)·μ_q, written once', () => {
    const online = build();
    const m = 0.75;
    const me = new MomentumEncoder(online, { momentum: m });
    const x = input();
    const start = movingStats(me.target);
    tf.dispose(me.applyTraining(x, { groups: 2, rng: new Rng(4) }));
    expect(movingStats(me.target)).toEqual(start);
    // The query side moves its statistics in its training forward (tfjs BN, momentum 0.9) …
    tf.dispose(online.apply(x, { training: true }) as tf.Tensor);
    const query = movingStats(online);
    expect(query).not.toEqual(start);
    // … and the key encoder's follow by the EMA alone.
    me.update();
    const key = movingStats(me.target);
    for (let s = 0; s < 2; s++) {
      for (let j = 0; j < UNITS; j++) {
        expect(key[s]![j]!).toBeCloseTo(m * start[s]![j]! + (1 - m) * query[s]![j]!, 6);
      }
    }
    // apply(x, true) still writes them (the old key path): the check above can fail.
    tf.dispose(me.apply(x, true));
    expect(movingStats(me.target)).not.toEqual(key);
    x.dispose();
    me.dispose();
    online.dispose();
  });

  it('frees every tensor it makes', async () => {
    const online = build();
    const me = new MomentumEncoder(online);
    const x = input();
    const rng = new Rng(6);
    await expectNoTensorLeak(() => me.applyTraining(x, { groups: 3, rng }));
    x.dispose();
    me.dispose();
    online.dispose();
  });
});
