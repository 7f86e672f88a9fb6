import { describe, expect, it } from 'vitest';
import { hasIcd, ICD, runSuiteOnWebGPU } from './webgpu/run-suite.js';

if (!hasIcd) console.log(`webgpu conv suite skipped: no SwiftShader Vulkan ICD at ${ICD}`);

// conv2d (strided, padded, explicit pads) forward, Conv2DBackpropInput, ebm.js's
// Conv2DBackpropFilter, fused conv and conv2dTranspose with gradients, on webgpu against cpu.
describe.skipIf(!hasIcd)('the conv kernel suite on webgpu (SwiftShader)', () => {
  it('every case of conv2d.test.ts passes on webgpu', () => {
    const tests = runSuiteOnWebGPU(['conv2d.test.ts']);
    const failed = tests.filter((t) => t.status === 'failed');
    expect(failed).toEqual([]);
    const passed = tests.filter((t) => t.status === 'passed').map((t) => t.name);
    expect(passed.length).toBeGreaterThanOrEqual(40);
    expect(passed.some((n) => n.includes('Conv2DBackpropFilter on webgpu'))).toBe(true);
  }, 160_000);
});
