import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { take, trainSimCLR } from '../src/index.js';
import { loadMnist, readMetrics } from '../src/node.js';

useCpuBackend();

// A tiny ConvNet keeps the pure-JS cpu backend fast enough for tests.
const tinyEncoder = () => convEncoder({ inputShape: [28, 28, 1], channels: [4, 8], seed: 1 });

describe('trainSimCLR', () => {
  it('lowers the NT-Xent loss on a small MNIST subset and leaks no tensors across steps', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 32, 3);
    const counts: number[] = [];
    const result = await trainSimCLR({
      dataset,
      encoder: tinyEncoder(),
      projectionDim: 16,
      epochs: 8,
      batchSize: 16,
      optimizer: { name: 'adam', learningRate: 1e-2 },
      seed: 2,
      callbacks: { onStepEnd: () => void counts.push(tf.memory().numTensors) },
    });
    expect(result.history).toHaveLength(8);
    expect(result.steps).toBe(16);
    // Per-epoch losses are noisy (fresh augmentations): compare the first and last two epochs.
    const losses = result.history.map((r) => r.loss);
    const early = (losses[0]! + losses[1]!) / 2;
    const late = (losses[6]! + losses[7]!) / 2;
    expect(late).toBeLessThan(early - 0.1);
    // Tensors after each step stay constant once the optimizer's slots exist.
    expect(new Set(counts.slice(1)).size).toBe(1);
    result.encoder.model.dispose();
    result.head.model.dispose();
  });

  it('resumes from a checkpoint after an interruption to exactly the uninterrupted result', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 32, 4);
    const base = {
      dataset,
      projectionDim: 8,
      epochs: 3,
      batchSize: 16,
      optimizer: { name: 'adamw' as const, learningRate: 2e-3 },
      seed: 5,
    };
    const straight = await trainSimCLR({ ...base, encoder: tinyEncoder() });

    const runDir = await mkdtemp(join(tmpdir(), 'ebm-simclr-'));
    // "Kill" the run in the middle of epoch 2, after the epoch-1 checkpoint was written.
    let steps = 0;
    await expect(
      trainSimCLR({
        ...base,
        encoder: tinyEncoder(),
        runDir,
        callbacks: {
          onStepEnd: () => {
            if (++steps === 3) throw new Error('killed');
          },
        },
      }),
    ).rejects.toThrow('killed');
    const resumed = await trainSimCLR({ ...base, encoder: tinyEncoder(), runDir, resume: true });
    expect(resumed.steps).toBe(4);
    expect(resumed.history.map((r) => r.loss)).toEqual(straight.history.map((r) => r.loss));
    const a = straight.encoder.model.getWeights().map((w) => Array.from(w.dataSync()));
    const b = resumed.encoder.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    // metrics.jsonl has one line per epoch that finished: epoch 0 (first run), 1 and 2 (resumed).
    expect((await readMetrics(join(runDir, 'metrics.jsonl'))).map((r) => r.epoch)).toEqual([
      0, 1, 2,
    ]);
  });

  it('rejects a batch larger than the dataset and a resume with other settings', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 16, 1);
    await expect(trainSimCLR({ dataset, encoder: tinyEncoder(), batchSize: 32 })).rejects.toThrow(
      /batchSize 32 is larger than the dataset \(16 images\)/,
    );
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-simclr-'));
    await trainSimCLR({ dataset, encoder: tinyEncoder(), batchSize: 8, runDir, projectionDim: 8 });
    await expect(
      trainSimCLR({
        dataset,
        encoder: tinyEncoder(),
        batchSize: 8,
        runDir,
        projectionDim: 8,
        temperature: 0.1,
        resume: true,
      }),
    ).rejects.toThrow(/other settings/);
  });
});
