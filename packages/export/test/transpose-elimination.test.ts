import { useCpuBackend } from '@ebmjs/test-utils';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { exportOnnx, inspectOnnx } from '../src/index.js';
import { parity, randomizeWeights } from './helpers.js';
import { resnetLike } from './resnet-like.js';

useCpuBackend();

describe('redundant Transpose elimination', () => {
  it('a ResNet-like conv net keeps no Transpose between layers (NHWC: one at the input; NCHW: none)', async () => {
    const model = resnetLike();
    randomizeWeights(model, 3);
    const naive = inspectOnnx(await exportOnnx(model, { optimize: false })).opCounts;
    const nhwc = inspectOnnx(await exportOnnx(model)).opCounts;
    const nchw = inspectOnnx(await exportOnnx(model, { layout: 'NCHW' })).opCounts;
    // Unoptimized, every Conv/BatchNorm/MaxPool sits between its own pair of Transposes.
    expect(naive['Transpose']).toBeGreaterThanOrEqual(
      2 * (naive['Conv']! + naive['BatchNormalization']!),
    );
    expect(nhwc['Transpose'] ?? 0).toBe(1);
    expect(nchw['Transpose'] ?? 0).toBe(0);
    // Nothing else was lost on the way.
    expect(nhwc['Conv']).toBe(naive['Conv']);
    expect(nhwc['BatchNormalization']).toBe(naive['BatchNormalization']);
    expect(nhwc['Add']).toBe(naive['Add']);
  });

  it('the optimized graph computes the same as the naive one and as tfjs', async () => {
    const model = resnetLike();
    randomizeWeights(model, 4);
    for (const layout of ['NHWC', 'NCHW'] as const) {
      for (const optimize of [true, false]) {
        const { maxDiff } = await parity(model, exportOnnx, {
          layout,
          exportOptions: { optimize },
        });
        expect(maxDiff, `${layout} optimize=${optimize}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('Flatten + Dense after convolutions: the NCHW->NHWC Transpose is folded into the Dense weights', async () => {
    const input = tfl.input({ shape: [8, 8, 2] });
    let x = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })
      .apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.dense({ units: 5 }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeWeights(model, 5);
    const nchw = await parity(model, exportOnnx, { layout: 'NCHW' });
    expect(nchw.maxDiff).toBeLessThanOrEqual(1e-4);
    expect(inspectOnnx(nchw.bytes).opCounts['Transpose'] ?? 0).toBe(0);
  });

  it('a Transpose feeding a Flatten that is the output stays (tfjs element order is kept)', async () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    const conv = tfl.layers
      .conv2d({ filters: 2, kernelSize: 1 })
      .apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({
      inputs: input,
      outputs: tfl.layers.flatten().apply(conv) as tfl.SymbolicTensor,
    });
    randomizeWeights(model, 6);
    const { maxDiff, bytes } = await parity(model, exportOnnx, { layout: 'NCHW' });
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    expect(inspectOnnx(bytes).opCounts['Transpose']).toBe(1);
  });
});
