import { describe, expect, it } from 'vitest';
import { hasIcd, ICD, runSuiteOnWebGPU } from './webgpu/run-suite.js';

if (!hasIcd) console.log(`webgpu kernel suite skipped: no SwiftShader Vulkan ICD at ${ICD}`);

// The wasm kernel suite's matMul, tile, sum/mean, maxPool and its gradient (ties, NaN),
// segment sums, gather, batchNorm, casts, comparisons, relu, softmax, logSumExp, concat, slice,
// transpose and avgPool cases, on webgpu against cpu (≤ 1e-4 relative), with ebm.js's webgpu
// kernels registered by selectBackend.
describe.skipIf(!hasIcd)('the kernel suite on webgpu (SwiftShader)', () => {
  it('every case of kernels.test.ts passes on webgpu', () => {
    const tests = runSuiteOnWebGPU(['kernels.test.ts']);
    const failed = tests.filter((t) => t.status === 'failed');
    expect(failed).toEqual([]);
    expect(tests.filter((t) => t.status === 'passed').length).toBeGreaterThanOrEqual(60);
    // The webgpu run really is on webgpu (test names carry the backend).
    expect(tests.some((t) => t.name.includes('MaxPoolGrad on webgpu'))).toBe(true);
  }, 160_000);
});
