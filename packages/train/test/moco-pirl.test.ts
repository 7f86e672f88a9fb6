import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosineSimilarityMatrix, Rng } from '@ebmjs/core';
import { convEncoder, projectionHead } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { augment, imageBatch, take, trainMoCo, trainPIRL } from '../src/index.js';
import { loadMnist } from '../src/node.js';

useCpuBackend();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('trainMoCo', () => {
  it('lowers its loss, separates positive pairs from negatives, cycles its queue and moves the key encoder', async () => {
    // Besides the loss, the test measures what MoCo optimises: the gap between the cosine of two
    // augmented views of one image and the cosine of different images, before and after training.
    // Queue (16) smaller than the data (64): its keys are other images, as with real datasets.
    const dataset = take(await loadMnist({ split: 'test' }), 64, 6);
    const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [4, 8], seed: 1 });
    const head = projectionHead({ inputDim: encoder.embeddingDim, outputDim: 16, seed: 2 });
    const pipeline = augment.presets.mocoV2({ channels: 1, size: 28 });
    const x = imageBatch(
      dataset,
      Int32Array.from({ length: 32 }, (_, i) => i),
    );
    const rng = new Rng(9);
    const [v1, v2] = [pipeline(x, rng), pipeline(x, rng)];
    const gap = () =>
      tf.tidy(() => {
        const embed = (v: tf.Tensor) =>
          head.model.apply(encoder.model.apply(v, { training: true }), {
            training: true,
          }) as tf.Tensor2D;
        const s = cosineSimilarityMatrix(embed(v1), embed(v2));
        const positive = tf.mean(tf.sum(tf.mul(s, tf.eye(32)), 1));
        const negative = tf.div(tf.sub(tf.sum(s), tf.mul(positive, 32)), 32 * 31);
        return tf.sub(positive, negative).dataSync()[0]!;
      });
    const before = gap();
    const result = await trainMoCo({
      dataset,
      encoder,
      head,
      queueSize: 16,
      momentum: 0.9,
      epochs: 6,
      // Identical views: the 24 steps the cpu backend affords in a test then give a clear signal.
      augmentation: augment.compose([]),
      batchSize: 16,
      optimizer: { name: 'adam', learningRate: 1e-2 },
      seed: 3,
    });
    expect(gap()).toBeGreaterThan(before + 0.05);
    // After the first epoch the queue always holds the previous batch's keys: losses compare.
    const losses = result.history.map((r) => r.loss);
    expect(mean(losses.slice(-2))).toBeLessThan(mean(losses.slice(1, 3)) - 0.2);
    // 24 steps of 16 keys went round the 16-slot ring: the pointer is back at 0.
    expect(result.queue.pointer).toBe(0);
    expect(result.keyEncoder.step).toBe(24);
    // The key encoder is an EMA of the online one: moved, but not equal.
    const online = Array.from(result.encoder.model.getWeights()[0]!.dataSync());
    const key = Array.from(result.keyEncoder.targets[0]!.getWeights()[0]!.dataSync());
    expect(online).not.toEqual(key);
  });

  it('resumes with its queue and key encoder to the uninterrupted result', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 16, 7);
    const base = {
      dataset,
      projectionDim: 8,
      queueSize: 24,
      epochs: 3,
      batchSize: 8,
      seed: 4,
    };
    const tiny = () => convEncoder({ inputShape: [28, 28, 1], channels: [4], seed: 2 });
    const straight = await trainMoCo({ ...base, encoder: tiny() });
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-moco-'));
    let steps = 0;
    await expect(
      trainMoCo({
        ...base,
        encoder: tiny(),
        runDir,
        callbacks: {
          onStepEnd: () => {
            if (++steps === 3) throw new Error('killed');
          },
        },
      }),
    ).rejects.toThrow('killed');
    const resumed = await trainMoCo({ ...base, encoder: tiny(), runDir, resume: true });
    expect(resumed.history.map((r) => r.loss)).toEqual(straight.history.map((r) => r.loss));
    expect(Array.from(resumed.queue.keys().dataSync())).toEqual(
      Array.from(straight.queue.keys().dataSync()),
    );
  });
});

describe('trainPIRL', () => {
  it('lowers the NCE loss with the jigsaw head and keeps the memory bank normalised', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 32, 8);
    const result = await trainPIRL({
      dataset,
      encoder: convEncoder({ inputShape: [null, null, 1], channels: [4, 8], seed: 1 }),
      projectionDim: 16,
      negatives: 16,
      epochs: 6,
      batchSize: 16,
      optimizer: { name: 'adam', learningRate: 1e-2 },
      seed: 5,
    });
    const losses = result.history.map((r) => r.loss);
    expect(mean(losses.slice(-2))).toBeLessThan(mean(losses.slice(0, 2)) - 0.05);
    const rows = result.bank.bank().arraySync() as number[][];
    for (const row of rows) expect(Math.hypot(...row)).toBeCloseTo(1, 4);
  });
});
