// A checkpoint is backend-independent: 2 SimCLR steps on webgpu, the run interrupted, resumed
// on the cpu backend for 2 more, gives the losses and weights of the same run done all on cpu
// (to float error). This file re-runs itself in a child vitest whose environment points Vulkan at
// Chromium's SwiftShader before the process starts (Dawn loads libvulkan.so.1 at startup).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { augment, take, trainSimCLR } from '../src/index.js';
import { loadMnist } from '../src/node.js';
import { hasIcd, inChild, runSelfOnWebGPU } from './webgpu/harness.js';

const relativeError = (got: number[], ref: number[]) =>
  Math.max(...ref.map((r, i) => Math.abs(got[i]! - r))) / Math.max(...ref.map(Math.abs), 1e-30);

describe.runIf(inChild)('cross-backend resume', () => {
  it('webgpu for epoch 1, killed, resumed on cpu for epoch 2 = all on cpu', async () => {
    const settings = {
      dataset: take(await loadMnist({ split: 'test' }), 8, 5),
      epochs: 2,
      batchSize: 4,
      projectionDim: 8,
      optimizer: { name: 'adam' as const, learningRate: 5e-3 },
      seed: 6,
      // A cheap augmentation: SwiftShader compiles each new shader in ~0.1 s.
      augmentation: augment.horizontalFlip(),
    };
    const tiny = () => convEncoder({ inputShape: [28, 28, 1], channels: [4, 8], seed: 1 });
    await tf.setBackend('cpu');
    const straight = await trainSimCLR({ ...settings, encoder: tiny() });

    await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-webgpu-resume-'));
    let steps = 0;
    await expect(
      trainSimCLR({
        ...settings,
        encoder: tiny(),
        runDir,
        callbacks: {
          onStepEnd: () => {
            // Epoch 1 (2 steps) ran on webgpu and was checkpointed; stop in epoch 2.
            if (++steps === 3) throw new Error('killed');
          },
        },
      }),
    ).rejects.toThrow('killed');
    await tf.setBackend('cpu');
    const resumed = await trainSimCLR({ ...settings, encoder: tiny(), runDir, resume: true });
    expect(resumed.steps).toBe(2);
    const [a, b] = [straight, resumed].map((r) => r.history.map((h) => h.loss));
    expect(b).toHaveLength(2);
    expect(relativeError(b!, a!)).toBeLessThanOrEqual(1e-4);
    const weights = async (r: typeof straight) =>
      (await Promise.all(r.encoder.model.getWeights().map((w) => w.data()))).flatMap((d) =>
        Array.from(d),
      );
    expect(relativeError(await weights(resumed), await weights(straight))).toBeLessThanOrEqual(
      1e-3,
    );
  }, 380_000);
});

describe.skipIf(inChild || !hasIcd)('checkpoints across backends (SwiftShader)', () => {
  it('a run checkpointed on webgpu resumes on cpu with the all-cpu losses (1e-4)', () => {
    const { passed, failed } = runSelfOnWebGPU(import.meta.url);
    expect(failed).toEqual([]);
    expect(passed).toBe(1);
  }, 420_000);
});
