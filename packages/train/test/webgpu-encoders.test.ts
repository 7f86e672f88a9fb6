// @ebmjs/models' convEncoder trains on webgpu in Node (Dawn on
// SwiftShader): this file re-runs itself in a child vitest whose environment points Vulkan at
// Chromium's SwiftShader before the process starts (Dawn loads libvulkan.so.1 at startup).
import { selectBackend } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import { describe, expect, it } from 'vitest';
import { hasIcd, inChild, runSelfOnWebGPU, trainSteps } from './webgpu/harness.js';

describe.runIf(inChild)('convEncoder trains on webgpu', () => {
  it('convEncoder: the loss falls over 20 steps', async () => {
    const info = await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    expect(info.backend).toBe('webgpu');
    const encoder = convEncoder({ inputShape: [8, 8, 3], channels: [4, 8], seed: 1 });
    const losses = await trainSteps(encoder, [8, 8, 3], 8);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(0.85 * losses[0]!);
    encoder.model.dispose();
  }, 380_000);
});

describe.skipIf(inChild || !hasIcd)('convEncoder on webgpu (SwiftShader)', () => {
  it('the loss falls over 20 steps', () => {
    const { passed, failed } = runSelfOnWebGPU(import.meta.url);
    expect(failed).toEqual([]);
    expect(passed).toBe(1);
  }, 420_000);
});
