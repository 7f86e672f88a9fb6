import { describe, expect, it } from 'vitest';
import { hasIcd, ICD, runSuiteOnWebGPU } from './webgpu/run-suite.js';

if (!hasIcd)
  console.log(`webgpu network-gradient suite skipped: no SwiftShader Vulkan ICD at ${ICD}`);

// Depthwise conv backprops and a whole ResNet-18's loss and weight gradients on webgpu against
// cpu. The 20-step training runs of training.test.ts are left out (a minute each on
// SwiftShader); @ebmjs/train's webgpu tests train the real encoders.
describe.skipIf(!hasIcd)('depthwise and whole-network gradients on webgpu (SwiftShader)', () => {
  it('every case of depthwise.test.ts and the whole-network gradients passes on webgpu', () => {
    const tests = runSuiteOnWebGPU(['depthwise.test.ts', 'training.test.ts'], {
      exclude: 'the loss falls over 20 steps',
    });
    const failed = tests.filter((t) => t.status === 'failed');
    expect(failed).toEqual([]);
    const passed = tests.filter((t) => t.status === 'passed').map((t) => t.name);
    expect(passed.length).toBeGreaterThanOrEqual(20);
    expect(passed.some((n) => n.includes('whole-network gradients on webgpu'))).toBe(true);
  }, 160_000);
});
