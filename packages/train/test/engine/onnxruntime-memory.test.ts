// The onnxruntime engine over 1000 steps: no tfjs tensor and no process memory accumulates.
// The weights are ~2 MB of state (weights and momentum), so leaking one copy of the state per
// step would grow the process by ~2 GB over the run; ORT's arena settles within a few steps.
import { convEncoder, projectionHead } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { trainSimCLR } from '../../src/recipes/simclr.js';
import { tinyImages } from '../fixtures/resume-setup.js';

useCpuBackend();

describe("engine 'onnxruntime' memory", () => {
  it('keeps tensors and resident memory flat over 1000 steps', { timeout: 300_000 }, async () => {
    const encoder = convEncoder({ inputShape: [8, 8, 1], channels: [32, 64], seed: 1 });
    const head = projectionHead({
      inputDim: encoder.embeddingDim,
      hiddenDim: 2048,
      outputDim: 64,
      seed: 2,
    });
    const params = encoder.model.countParams() + head.model.countParams();
    expect(params * 4 * 2).toBeGreaterThan(1.5e6);
    const tensors: number[] = [];
    const rss: number[] = [];
    const result = await trainSimCLR({
      dataset: tinyImages(16, 5),
      encoder,
      head,
      batchSize: 4,
      epochs: 250,
      schedule: 'constant',
      optimizer: { name: 'sgd', learningRate: 1e-3 },
      engine: 'onnxruntime',
      onnxruntime: { threads: 1 },
      callbacks: {
        onStepEnd: (e) => {
          tensors.push(tf.memory().numTensors);
          if (e.globalStep % 100 === 0) rss.push(process.memoryUsage().rss);
        },
      },
    });
    expect(result.engine).toBe('onnxruntime');
    expect(result.steps).toBe(1000);
    // The first epoch end syncs the graph into tfjs, which creates the optimizer's slots once.
    expect(new Set(tensors.slice(4)).size).toBe(1);
    // After the first 200 steps (arena and JIT warm): less than 64 MB more over 800 steps.
    const growth = rss.at(-1)! - rss[1]!;
    expect(growth).toBeLessThan(64 * 2 ** 20);
    encoder.model.dispose();
    head.model.dispose();
  });
});
