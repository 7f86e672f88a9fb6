import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/contract';
import { Rng } from '@ebmjs/core';
import { miners, triplet } from '@ebmjs/losses';
import { mlpEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  type ImageDataset,
  imageBatch,
  labelBatch,
  mPerClassSampler,
  runTrainingLoop,
  type TrainConfig,
  take,
  trainSimCLR,
} from '../src/index.js';
import { loadMnist } from '../src/node.js';
import { tinyImages } from './fixtures/resume-setup.js';

useCpuBackend();

const counts = (xs: ArrayLike<number>) => {
  const out = new Map<number, number>();
  for (const x of Array.from(xs)) out.set(x, (out.get(x) ?? 0) + 1);
  return out;
};
const within = (values: number[], expected: number) =>
  values.every((v) => v === Math.floor(expected) || v === Math.ceil(expected));

// 7 classes of 3 to 15 rows (class 0 has fewer than m = 4), 63 rows in a seeded random order.
const SIZES = [3, 6, 7, 9, 11, 12, 15];
const grouped = SIZES.flatMap((n, c) => Array<number>(n).fill(c));
const labels = Int32Array.from(new Rng(9).permutation(grouped.length), (i) => grouped[i]!);

describe('mPerClassSampler', () => {
  it('gives every batch exactly m rows of each of its batchSize / m classes', () => {
    const batches = [...mPerClassSampler({ labels, m: 4, batchSize: 12, seed: 1, batches: 50 })];
    expect(batches).toHaveLength(50);
    for (const batch of batches) {
      expect(batch).toHaveLength(12);
      const byClass = counts(Array.from(batch, (i) => labels[i]!));
      expect([...byClass.values()]).toEqual([4, 4, 4]);
      // Distinct rows for a class with ≥ m rows; class 0 (3 rows) repeats one.
      for (let k = 0; k < 3; k++) {
        const rows = batch.slice(k * 4, k * 4 + 4);
        expect(new Set(Array.from(rows, (i) => labels[i])).size).toBe(1);
        expect(new Set(rows).size).toBe(labels[rows[0]!] === 0 ? 3 : 4);
      }
    }
  });

  it('balances an epoch: classes in ⌊T·k/C⌋ or ⌈T·k/C⌉ batches, rows drawn evenly within a class', () => {
    const T = 50;
    const batches = [...mPerClassSampler({ labels, m: 4, batchSize: 12, seed: 2, batches: T })];
    const classBatches = counts(
      batches.flatMap((b) => [...new Set(Array.from(b, (i) => labels[i]!))]),
    );
    expect(classBatches.size).toBe(SIZES.length);
    expect(within([...classBatches.values()], (T * 3) / SIZES.length)).toBe(true);
    const rowDraws = counts(batches.flatMap((b) => Array.from(b)));
    SIZES.forEach((n, c) => {
      const rows = Array.from(labels.keys()).filter((i) => labels[i] === c);
      const draws = classBatches.get(c)! * 4;
      expect(
        within(
          rows.map((i) => rowDraws.get(i) ?? 0),
          draws / n,
        ),
      ).toBe(true);
    });
  });

  it('covers a balanced dataset exactly once per epoch when each class fills its batches', () => {
    // 10 classes × 12 rows, batch 12 at m 4: 10 batches, 3 per class, every row once.
    const balanced = Int32Array.from({ length: 120 }, (_, i) => i % 10);
    const batches = [...mPerClassSampler({ labels: balanced, m: 4, batchSize: 12, seed: 5 })];
    expect(batches).toHaveLength(10);
    const all = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });

  it('is a function of its options: the same seed replays, another seed differs', () => {
    const run = (seed: number) =>
      [...mPerClassSampler({ labels, m: 3, batchSize: 9, seed })].map((b) => Array.from(b));
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    // Default length: the loop's steps per epoch, ⌊63 / 9⌋.
    expect(run(7)).toHaveLength(7);
  });

  it('refuses impossible settings, naming what it expected and received', () => {
    const message = (options: Parameters<typeof mPerClassSampler>[0]) => {
      try {
        mPerClassSampler(options);
      } catch (error) {
        expect(error).toBeInstanceOf(EbmError);
        expect((error as EbmError).code).toBe('INVALID_ARGUMENT');
        return (error as Error).message;
      }
      throw new Error('no error');
    };
    expect(message({ labels, m: 4, batchSize: 10 })).toBe(
      'mPerClassSampler: batchSize must be a multiple of m (m rows of each class), received batchSize 10 and m 4.',
    );
    expect(message({ labels, m: 2, batchSize: 16 })).toBe(
      'mPerClassSampler: a batch of 16 at m 2 needs 8 classes, received labels of 7 classes.',
    );
    expect(message({ labels: Int32Array.of(0, 1, -1, 1), m: 1, batchSize: 2 })).toBe(
      'mPerClassSampler: labels must be integers ≥ 0 (a labelled dataset), received -1 at row 2.',
    );
    expect(message({ labels, m: 0, batchSize: 4 })).toBe(
      'mPerClassSampler: m must be an integer ≥ 1, received 0.',
    );
  });
});

// The README's example: a triplet + batch-hard embedding trained on the loop with the sampler.
function tripletRun(dataset: ImageDataset, config: TrainConfig, seen?: Int32Array[]) {
  const encoder = mlpEncoder({
    inputShape: [...dataset.imageShape],
    hiddenUnits: [64],
    embeddingDim: 16,
    seed: 1,
  });
  const loss = triplet({ margin: 0.2, miner: miners.batchHard() });
  const trainable = encoder.model.trainableWeights.map((w) => w.read() as tf.Variable);
  return runTrainingLoop({
    config: { sampler: { mPerClass: 4 }, ...config },
    recipe: 'triplet',
    datasetSize: dataset.labels.length,
    labels: dataset.labels,
    viewsPerImage: 1,
    trainable: () => trainable,
    loss: (indices) => {
      seen?.push(indices);
      const z = encoder.model.apply(imageBatch(dataset, indices), { training: true });
      return loss(z as tf.Tensor2D, labelBatch(dataset, indices));
    },
    models: () => ({ encoder: encoder.model }),
    fingerprint: { recipe: 'triplet', margin: 0.2, miner: 'batchHard' },
  }).then((result) => ({ result, encoder }));
}

describe('the loop with sampler: { mPerClass }', () => {
  it('trains triplet + batchHard on MNIST with m per class in every batch, and the loss falls', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 512, 4);
    const seen: Int32Array[] = [];
    const { result, encoder } = await tripletRun(
      dataset,
      { epochs: 4, batchSize: 32, seed: 1, optimizer: { name: 'adam', learningRate: 3e-3 } },
      seen,
    );
    expect(result.steps).toBe(64);
    for (const batch of seen)
      expect([...counts(labelBatch(dataset, batch)).values()]).toEqual(Array(8).fill(4));
    const losses = result.history.map((r) => r.loss);
    expect(losses[3]!).toBeLessThan(0.7 * losses[0]!);
    encoder.model.dispose();
  });

  it('resumes exactly: the stopped and resumed run sees the batches and weights of the straight run', async () => {
    const dataset = tinyImages(32, 5);
    const labelled = { ...dataset, labels: Int32Array.from({ length: 32 }, (_, i) => i % 4) };
    const config = { epochs: 2, batchSize: 8, seed: 3 };
    const straightSeen: Int32Array[] = [];
    const straight = await tripletRun(labelled, config, straightSeen);
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-sampler-'));
    const seen: Int32Array[] = [];
    const stopped = await tripletRun(labelled, { ...config, runDir, maxSteps: 3 }, seen);
    expect(stopped.result.stopReason).toBe('maxSteps');
    const resumed = await tripletRun(labelled, { ...config, runDir, resume: true }, seen);
    expect(resumed.result.steps).toBe(5);
    expect(seen.map((b) => Array.from(b))).toEqual(straightSeen.map((b) => Array.from(b)));
    expect(resumed.result.history.map((h) => h.loss)).toEqual(
      straight.result.history.map((h) => h.loss),
    );
    const weights = (r: typeof straight) =>
      r.encoder.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(weights(resumed)).toEqual(weights(straight));
    // Another m changes the batches: the resume refuses it, naming the setting.
    await expect(
      tripletRun(labelled, { ...config, runDir, resume: true, sampler: { mPerClass: 2 } }),
    ).rejects.toThrow(/sampler\.mPerClass: checkpoint 4, this run 2/);
    for (const r of [straight, stopped, resumed]) r.encoder.model.dispose();
  });

  it('refuses mPerClass for a recipe without labels, and impossible settings before any step', async () => {
    await expect(
      trainSimCLR({ dataset: tinyImages(), batchSize: 4, sampler: { mPerClass: 2 } }),
    ).rejects.toThrow(
      'trainSimCLR: sampler { mPerClass } needs a labelled recipe (one that hands the loop its labels); trainSimCLR trains without labels, received sampler { mPerClass: 2 }.',
    );
    const labelled = { ...tinyImages(), labels: Int32Array.from({ length: 16 }, (_, i) => i % 2) };
    await expect(tripletRun(labelled, { batchSize: 6, sampler: { mPerClass: 4 } })).rejects.toThrow(
      'batchSize must be a multiple of m',
    );
  });
});
