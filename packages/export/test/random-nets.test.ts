import { useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/index.js';
import { parity, randomizeWeights } from './helpers.js';
import { randomImageNet, randomVectorNet } from './random-nets.js';

useCpuBackend();

// Measured maxima are printed once so the report can quote them; the assertions are the spec's.
const worst = { float32: 0, float16Relative: 0 };

describe('property: random small nets from supported layers match tfjs under ORT', () => {
  for (let seed = 1; seed <= 24; seed++) {
    it(`image net #${seed}, NHWC and NCHW, batch 1 and 7`, async () => {
      const model = randomImageNet(seed);
      randomizeWeights(model, 1000 + seed);
      for (const layout of ['NHWC', 'NCHW'] as const) {
        const { maxDiff } = await parity(model, exportOnnx, { layout, seed });
        worst.float32 = Math.max(worst.float32, maxDiff);
        expect(maxDiff, `${model.name} ${layout}`).toBeLessThanOrEqual(1e-4);
      }
      if (seed % 3 === 0) {
        const { maxDiff, maxRef } = await parity(model, exportOnnx, {
          exportOptions: { float16: true },
          seed,
        });
        const relative = maxDiff / Math.max(maxRef, 1e-6);
        worst.float16Relative = Math.max(worst.float16Relative, relative);
        expect(relative, `${model.name} float16`).toBeLessThanOrEqual(1e-2);
      }
    });
  }
  for (let seed = 1; seed <= 12; seed++) {
    it(`vector net #${seed}, batch 1 and 7`, async () => {
      const model = randomVectorNet(seed);
      randomizeWeights(model, 2000 + seed);
      const { maxDiff } = await parity(model, exportOnnx, { seed, range: 2 });
      worst.float32 = Math.max(worst.float32, maxDiff);
      expect(maxDiff, model.name).toBeLessThanOrEqual(1e-4);
    });
  }
  it('reports the worst cases', () => {
    console.log(
      `random nets: max |ORT − tfjs| float32 ${worst.float32.toExponential(2)}, float16 relative ${worst.float16Relative.toExponential(2)}`,
    );
    expect(worst.float32).toBeLessThanOrEqual(1e-4);
  });
});
