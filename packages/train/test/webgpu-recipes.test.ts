// trainSimCLR, trainMoCo and trainPIRL run unchanged on webgpu in Node (Dawn on SwiftShader),
// 2 steps each on 8 MNIST digits (SimCLR with its default augmentations, MoCo and PIRL with a
// flip: SwiftShader compiles each new shader in ~0.1 s): this file re-runs itself in a child vitest whose environment points Vulkan at
// Chromium's SwiftShader before the process starts (Dawn loads libvulkan.so.1 at startup).
import { selectBackend } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { augment, take, trainMoCo, trainPIRL, trainSimCLR } from '../src/index.js';
import { loadMnist } from '../src/node.js';
import { hasIcd, inChild, runSelfOnWebGPU } from './webgpu/harness.js';

const tiny = (size: number | null = 28) =>
  convEncoder({ inputShape: [size, size, 1], channels: [4, 8], seed: 1 });
const base = async () => ({
  dataset: take(await loadMnist({ split: 'test' }), 8, 3),
  epochs: 1,
  batchSize: 4,
  projectionDim: 8,
  seed: 4,
});

describe.runIf(inChild)('recipes on webgpu', () => {
  it('trainSimCLR: 2 steps, finite loss, on webgpu', async () => {
    await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    const result = await trainSimCLR({ ...(await base()), encoder: tiny() });
    expect(tf.getBackend()).toBe('webgpu');
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
    result.encoder.model.dispose();
  }, 380_000);

  it('trainMoCo: 2 steps, finite loss, on webgpu', async () => {
    await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    const result = await trainMoCo({
      ...(await base()),
      encoder: tiny(),
      queueSize: 8,
      augmentation: augment.horizontalFlip(),
    });
    expect(tf.getBackend()).toBe('webgpu');
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
  });

  it('trainPIRL: 2 steps, finite loss, on webgpu', async () => {
    await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    const result = await trainPIRL({
      ...(await base()),
      encoder: tiny(null),
      augmentation: augment.horizontalFlip(),
    });
    expect(tf.getBackend()).toBe('webgpu');
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
  });
});

describe.skipIf(inChild || !hasIcd)('the recipes on webgpu (SwiftShader)', () => {
  it('trainSimCLR, trainMoCo and trainPIRL run unchanged on webgpu', () => {
    const { passed, failed } = runSelfOnWebGPU(import.meta.url);
    expect(failed).toEqual([]);
    expect(passed).toBe(3);
  }, 420_000);
});
