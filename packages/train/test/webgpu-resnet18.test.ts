// @ebmjs/models' ResNet-18 (CIFAR stem) trains on webgpu in Node (Dawn on
// SwiftShader): this file re-runs itself in a child vitest whose environment points Vulkan at
// Chromium's SwiftShader before the process starts (Dawn loads libvulkan.so.1 at startup).
import { selectBackend } from '@ebmjs/core';
import { resnet18 } from '@ebmjs/models';
import { describe, expect, it } from 'vitest';
import { hasIcd, inChild, runSelfOnWebGPU, trainSteps } from './webgpu/harness.js';

describe.runIf(inChild)('resnet18 trains on webgpu', () => {
  it('resnet18 (CIFAR stem): the loss falls over 20 steps', async () => {
    const info = await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    expect(info.backend).toBe('webgpu');
    const encoder = resnet18({ inputShape: [8, 8, 3], stem: 'cifar', width: 4, seed: 2 });
    const losses = await trainSteps(encoder, [8, 8, 3], 4);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(0.85 * losses[0]!);
    encoder.model.dispose();
  }, 380_000);
});

describe.skipIf(inChild || !hasIcd)('resnet18 on webgpu (SwiftShader)', () => {
  it('the loss falls over 20 steps', () => {
    const { passed, failed } = runSelfOnWebGPU(import.meta.url);
    expect(failed).toEqual([]);
    expect(passed).toBe(1);
  }, 420_000);
});
