import { Rng } from '@ebmjs/core';
import { expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { knnEvaluate, linearProbe } from '../src/index.js';

useCpuBackend();

/** Gaussian blobs around the given centres: n points each, labelled by blob. */
function blobs(centres: number[][], n: number, spread: number, seed: number) {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  centres.forEach((c, label) => {
    for (let i = 0; i < n; i++) {
      rows.push(c.map((v) => v + spread * rng.normal()));
      labels.push(label);
    }
  });
  return { embeddings: tf.tensor2d(rows), labels: Int32Array.from(labels) };
}

describe('knnEvaluate', () => {
  it('weights votes by exp(cos/τ): a close minority outvotes a distant majority', () => {
    // Test point at angle 0. Class 0: one neighbour at 10°; class 1: two neighbours at 60°.
    const deg = (a: number) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)];
    const train = {
      embeddings: tf.tensor2d([deg(10), deg(60), deg(-60)]),
      labels: Int32Array.from([0, 1, 1]),
    };
    const test = { embeddings: tf.tensor2d([deg(0)]), labels: Int32Array.from([0]) };
    // τ = 0.1: class 0 scores e^{cos10°/0.1} = e^9.85, class 1 scores 2e^{5} → class 0.
    expect(knnEvaluate(train, test, { k: 3, temperature: 0.1 }).predictions[0]).toBe(0);
    // τ = 10: weights almost equal, the majority (class 1) wins: e^{0.0985} < 2e^{0.05}.
    expect(knnEvaluate(train, test, { k: 3, temperature: 10 }).predictions[0]).toBe(1);
    // k = 1: only the nearest votes.
    expect(knnEvaluate(train, test, { k: 1, temperature: 10 }).predictions[0]).toBe(0);
  });

  it('classifies separated clusters perfectly and is invariant to embedding scale', () => {
    const centres = [
      [5, 0, 0],
      [0, 5, 0],
      [0, 0, 5],
    ];
    const train = blobs(centres, 40, 0.5, 1);
    const test = blobs(centres, 20, 0.5, 2);
    expect(knnEvaluate(train, test, { k: 10 }).accuracy).toBe(1);
    const scaled = { embeddings: tf.mul(test.embeddings, 1000), labels: test.labels };
    expect(knnEvaluate(train, scaled, { k: 10 }).accuracy).toBe(1);
  });

  it('agrees with a brute-force sort on random data', () => {
    const rng = new Rng(11);
    const rand = (n: number, d: number) =>
      Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const trainRows = rand(600, 8);
    const testRows = rand(60, 8);
    const labels = Int32Array.from({ length: 600 }, () => rng.int(5));
    const cos = (a: number[], b: number[]) => {
      const dot = a.reduce((s, v, i) => s + v * b[i]!, 0);
      return dot / (Math.hypot(...a) * Math.hypot(...b));
    };
    const expected = testRows.map((q) => {
      const sims = trainRows
        .map((t, i) => [cos(q, t), i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 25);
      const scores = new Array(5).fill(0);
      for (const [s, i] of sims) scores[labels[i]!] += Math.exp(s / 0.2);
      return scores.indexOf(Math.max(...scores));
    });
    const result = knnEvaluate(
      { embeddings: tf.tensor2d(trainRows), labels },
      { embeddings: tf.tensor2d(testRows), labels: Int32Array.from(expected) },
      { k: 25, temperature: 0.2, batchSize: 16 },
    );
    expect(Array.from(result.predictions)).toEqual(expected);
    expect(result.accuracy).toBe(1);
  });

  it('rejects mismatched labels and leaks nothing', async () => {
    const train = blobs([[1, 0]], 5, 0.1, 3);
    expect(() =>
      knnEvaluate({ embeddings: train.embeddings, labels: Int32Array.from([0]) }, train),
    ).toThrow(/expected 5 labels/);
    await expectNoTensorLeak(() => knnEvaluate(train, train, { k: 3 }));
  });
});

describe('linearProbe', () => {
  it('separates linearly separable classes and cannot separate XOR', () => {
    const centres = [
      [2, 2],
      [-2, 2],
      [0, -2],
    ];
    const result = linearProbe(blobs(centres, 60, 0.4, 4), blobs(centres, 30, 0.4, 5), {
      epochs: 40,
    });
    expect(result.accuracy).toBeGreaterThan(0.97);
    expect(result.trainAccuracy).toBeGreaterThan(0.97);
    // XOR: class 0 at (±2, ±2) same signs, class 1 at opposite signs. A linear model is at chance.
    const xor = (seed: number) => {
      const a = blobs(
        [
          [2, 2],
          [-2, -2],
          [2, -2],
          [-2, 2],
        ],
        40,
        0.3,
        seed,
      );
      return { embeddings: a.embeddings, labels: a.labels.map((l) => (l < 2 ? 0 : 1)) };
    };
    const linear = linearProbe(xor(6), xor(7), { epochs: 40 });
    expect(linear.accuracy).toBeLessThan(0.7);
    // ...while kNN, which is not linear, solves it.
    expect(knnEvaluate(xor(6), xor(7), { k: 5 }).accuracy).toBeGreaterThan(0.95);
  });

  it('leaks nothing', async () => {
    const data = blobs(
      [
        [1, 0],
        [0, 1],
      ],
      10,
      0.1,
      8,
    );
    await expectNoTensorLeak(() => linearProbe(data, data, { epochs: 2 }));
  });
});
