import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  evaluateEmbedder,
  type ImageDataset,
  knnMonitor,
  onlineLinearProbe,
  progressBar,
  take,
  trainingMonitors,
  trainSimCLR,
} from '../src/index.js';
import { loadMnist, readMetrics } from '../src/node.js';

useCpuBackend();

// A tiny ConvNet keeps the pure-JS cpu backend fast enough for tests.
const tinyEncoder = () => convEncoder({ inputShape: [28, 28, 1], channels: [4, 8], seed: 1 });
const weightsOf = (model: { getWeights(): tf.Tensor[] }) =>
  model.getWeights().map((w) => Array.from(w.dataSync()));

let dataset: ImageDataset;
let bank: ImageDataset;
let test: ImageDataset;
beforeAll(async () => {
  const train = await loadMnist({ split: 'train' });
  const mnistTest = await loadMnist({ split: 'test' });
  dataset = take(train, 64, 3);
  bank = take(train, 300, 1);
  test = take(mnistTest, 100, 7);
});

const recipe = (extra: Record<string, unknown>) => ({
  dataset,
  projectionDim: 8,
  batchSize: 16,
  optimizer: { name: 'adam' as const, learningRate: 1e-2 },
  seed: 2,
  ...extra,
});

describe('knnMonitor', () => {
  it("its last value equals evaluateEmbedder's (ebm eval's) kNN on the same bank, k and τ; records carry knn and step", async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-monitors-'));
    try {
      const encoder = tinyEncoder();
      const monitors = trainingMonitors(encoder, [knnMonitor({ bank, test })]);
      const lines: string[] = [];
      const result = await trainSimCLR(
        recipe({
          encoder,
          epochs: 2,
          runDir,
          evaluate: monitors.evaluate,
          callbacks: [monitors.callbacks, progressBar({ write: (s) => lines.push(s) })],
        }),
      );
      const records = await readMetrics(join(runDir, 'metrics.jsonl'));
      // 64 images in batches of 16: 4 steps an epoch.
      expect(records.map((r) => r.metrics?.['step'])).toEqual([4, 8]);
      for (const r of records) {
        expect(r.metrics?.['knn']).toBeGreaterThan(0.2); // ten classes: chance is 0.1
        expect(r.metrics?.['knn']).toBeLessThanOrEqual(1);
      }
      // The defaults on both sides (k 200, τ 0.1): the eval path ebm eval runs.
      const evaluated = evaluateEmbedder(result.encoder.model, bank, test);
      expect(records.at(-1)?.metrics?.['knn']).toBe(evaluated.knn);
      // And with other settings given to both.
      const settings = { k: 7, temperature: 0.5 };
      const other = trainingMonitors(encoder, [knnMonitor({ bank, test, ...settings })]);
      expect(other.evaluate(1)['knn']).toBe(
        evaluateEmbedder(result.encoder.model, bank, test, { knn: settings }).knn,
      );
      // The progress line prints them as percentages, without the step.
      const knn = ((records.at(-1)?.metrics?.['knn'] ?? 0) * 100).toFixed(1);
      expect(lines.at(-1)).toMatch(new RegExp(`^epoch 2: .* knn ${knn}%\\n$`));
      expect(lines.at(-1)).not.toContain('step');
      monitors.dispose();
      result.encoder.model.dispose();
      result.head.model.dispose();
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  });

  it('measures every `every` epochs and after the last one; without the callbacks only every `every`', async () => {
    const encoder = tinyEncoder();
    const monitors = trainingMonitors(encoder, [knnMonitor({ bank, test, every: 2 })]);
    const result = await trainSimCLR(
      recipe({ encoder, epochs: 3, evaluate: monitors.evaluate, callbacks: monitors.callbacks }),
    );
    // After epoch 2 (every 2) and epoch 3 (the last); not after epoch 1.
    expect(result.history.map((r) => Object.keys(r.metrics ?? {}).sort())).toEqual([
      [],
      ['knn', 'step'],
      ['knn', 'step'],
    ]);
    expect(result.history.map((r) => r.metrics?.['step'])).toEqual([undefined, 8, 12]);
    // Unbound from the steps, the monitor cannot know the last epoch nor the step.
    const unbound = trainingMonitors(encoder, [knnMonitor({ bank, test, every: 2 })]);
    expect(unbound.evaluate(2)).toEqual({});
    expect(Object.keys(unbound.evaluate(1))).toEqual(['knn']);
    result.encoder.model.dispose();
    result.head.model.dispose();
  });

  it('refuses unlabelled images and bad settings with an EbmError naming them', () => {
    const unlabelled = { ...test, labels: new Int32Array(test.labels.length).fill(-1) };
    expect(() => knnMonitor({ bank: unlabelled, test })).toThrow(
      'knnMonitor: bank: expected class labels >= 0, received -1 at image 0',
    );
    expect(() => onlineLinearProbe({ train: bank, test: unlabelled })).toThrow(EbmError);
    expect(() => knnMonitor({ bank, test, every: 0 })).toThrow(/knnMonitor: every/);
    expect(() => knnMonitor({ bank, test, k: 1.5 })).toThrow(/knnMonitor: k/);
    expect(() => onlineLinearProbe({ train: bank, test, lr: 0 })).toThrow(/onlineLinearProbe: lr/);
  });
});

describe('onlineLinearProbe', () => {
  it('keeps its head across measurements (warm start), never changes the encoder, and frees everything', () => {
    const encoder = tinyEncoder();
    const before = weightsOf(encoder.model);
    const tensors = tf.memory().numTensors;
    // Three measurements of 10 steps continue one head: the same as one of 30 steps.
    const warm = trainingMonitors(encoder, [
      onlineLinearProbe({ train: bank, test, stepsPerEpoch: 10, batchSize: 32 }),
    ]);
    const values = [0, 1, 2].map((epoch) => warm.evaluate(epoch)['linearProbe']);
    const once = trainingMonitors(encoder, [
      onlineLinearProbe({ train: bank, test, stepsPerEpoch: 30, batchSize: 32 }),
    ]);
    expect(values[2]).toBe(once.evaluate(0)['linearProbe']);
    // A head restarted at each measurement would score the first value each time.
    expect(values[2]).not.toBe(values[0]);
    expect(values[2]).toBeGreaterThan(0.3); // ten classes: chance is 0.1
    // Only the head's variables were updated: the encoder is bit for bit as it was.
    expect(weightsOf(encoder.model)).toEqual(before);
    warm.dispose();
    once.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    encoder.model.dispose();
  });

  it("trains alongside a recipe without changing the recipe's numbers or leaking tensors", async () => {
    const plain = await trainSimCLR(recipe({ encoder: tinyEncoder(), epochs: 2 }));
    const plainLosses = plain.history.map((r) => r.loss);
    const plainWeights = weightsOf(plain.encoder.model);
    plain.encoder.model.dispose();
    plain.head.model.dispose();
    const tensors = tf.memory().numTensors;
    const encoder = tinyEncoder();
    const monitors = trainingMonitors(encoder, [
      knnMonitor({ bank, test }),
      onlineLinearProbe({ train: bank, test, stepsPerEpoch: 5 }),
    ]);
    const counts: number[] = [];
    const monitored = await trainSimCLR(
      recipe({
        encoder,
        epochs: 2,
        evaluate: monitors.evaluate,
        callbacks: [
          monitors.callbacks,
          { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
        ],
      }),
    );
    expect(monitored.history.map((r) => r.loss)).toEqual(plainLosses);
    expect(weightsOf(monitored.encoder.model)).toEqual(plainWeights);
    expect(Object.keys(monitored.history[1]?.metrics ?? {}).sort()).toEqual([
      'knn',
      'linearProbe',
      'step',
    ]);
    // Between epochs the count stays: a measurement frees its embeddings.
    expect(counts[1]).toBe(counts[0]);
    monitored.encoder.model.dispose();
    monitored.head.model.dispose();
    monitors.dispose();
    // Everything the run and the monitors made is gone.
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
