import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { exportOnnx, inspectOnnx } from '../src/index.js';
import { maxAbsDiff, parity, Rng, randomizeWeights, runOrt, runTfjs, uniform } from './helpers.js';

useCpuBackend();

type Sym = tfl.SymbolicTensor;

describe('functional graphs', () => {
  it('a nested Sequential and a nested functional model, with a head on top', async () => {
    const backbone = tfl.sequential({
      name: 'backbone',
      layers: [
        tfl.layers.conv2d({
          inputShape: [8, 8, 3],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
        tfl.layers.batchNormalization(),
        tfl.layers.globalAveragePooling2d({}),
      ],
    });
    const hin = tfl.input({ shape: [4] });
    const head = tfl.model({
      name: 'head',
      inputs: hin,
      outputs: tfl.layers
        .dense({ units: 3 })
        .apply(tfl.layers.dense({ units: 5, activation: 'gelu' }).apply(hin)) as Sym,
    });
    const input = tfl.input({ shape: [8, 8, 3] });
    const model = tfl.model({ inputs: input, outputs: head.apply(backbone.apply(input)) as Sym });
    randomizeWeights(model, 1);
    for (const layout of ['NHWC', 'NCHW'] as const) {
      const { maxDiff } = await parity(model, exportOnnx, { layout });
      expect(maxDiff, layout).toBeLessThanOrEqual(1e-4);
    }
  });

  it('a shared layer applied twice (siamese branches) stores its weights once', async () => {
    const shared = tfl.layers.dense({ units: 4, activation: 'tanh', name: 'shared_dense' });
    const a = tfl.input({ shape: [5] });
    const b = tfl.input({ shape: [5] });
    const za = shared.apply(a) as Sym;
    const zb = shared.apply(b) as Sym;
    const model = tfl.model({
      inputs: [a, b],
      outputs: tfl.layers.multiply().apply([za, zb]) as Sym,
    });
    randomizeWeights(model, 2);
    const { maxDiff, bytes } = await parity(model, exportOnnx);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    const summary = inspectOnnx(bytes);
    expect(summary.inputs.map((i) => i.name)).toEqual(['input_0', 'input_1']);
    expect(summary.opCounts['Gemm']).toBe(2);
    expect(
      Object.keys(summary.initializerTypes).filter((n) => n.includes('shared_dense')),
    ).toHaveLength(2); // kernel + bias
  });

  it('a nested model called twice, several outputs, one of them an input passed through', async () => {
    const encIn = tfl.input({ shape: [6] });
    const encoder = tfl.model({
      name: 'enc',
      inputs: encIn,
      outputs: tfl.layers.dense({ units: 3, activation: 'swish' }).apply(encIn) as Sym,
    });
    const x1 = tfl.input({ shape: [6] });
    const x2 = tfl.input({ shape: [6] });
    const e1 = encoder.apply(x1) as Sym;
    const e2 = encoder.apply(x2) as Sym;
    const dropped = tfl.layers.dropout({ rate: 0.5 }).apply(x2) as Sym;
    const model = tfl.model({
      inputs: [x1, x2],
      outputs: [
        e1,
        tfl.layers.concatenate().apply([e1, e2]) as Sym,
        dropped,
        tfl.layers.average().apply([e1, e2]) as Sym,
      ],
    });
    randomizeWeights(model, 3);
    const { maxDiff, bytes } = await parity(model, exportOnnx);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    expect(inspectOnnx(bytes).outputs.map((o) => o.name)).toEqual([
      'output_0',
      'output_1',
      'output_2',
      'output_3',
    ]);
  });

  it('residual, multiply, maximum and minimum merges on feature maps', async () => {
    const input = tfl.input({ shape: [6, 6, 4] });
    const c1 = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same' })
      .apply(input) as Sym;
    const c2 = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as Sym;
    const m = tfl.layers.multiply().apply([c1, c2, input]) as Sym;
    const mx = tfl.layers.maximum().apply([m, c1]) as Sym;
    const mn = tfl.layers.minimum().apply([mx, c2]) as Sym;
    const out = tfl.layers.add().apply([mn, input]) as Sym;
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeWeights(model, 4);
    for (const layout of ['NHWC', 'NCHW'] as const) {
      const { maxDiff, bytes } = await parity(model, exportOnnx, { layout });
      expect(maxDiff, layout).toBeLessThanOrEqual(1e-4);
      // Rank-4 output in the chosen layout: NCHW needs no Transpose at all.
      if (layout === 'NCHW') expect(inspectOnnx(bytes).opCounts['Transpose'] ?? 0).toBe(0);
    }
  });

  it('unknown spatial size: one model serves several odd and even image sizes', async () => {
    const input = tfl.input({ shape: [null, null, 3] });
    let x = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })
      .apply(input) as Sym;
    x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as Sym;
    x = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' })
      .apply(x) as Sym;
    x = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(x) as Sym;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as Sym;
    const model = tfl.model({ inputs: input, outputs: x });
    randomizeWeights(model, 5);
    const bytes = await exportOnnx(model);
    const summary = inspectOnnx(bytes);
    expect(summary.inputs[0]!.shape).toEqual(['batch', 'input_dim1', 'input_dim2', 3]);
    const rng = new Rng(6);
    for (const [h, w] of [
      [9, 9],
      [10, 7],
      [16, 16],
    ] as const) {
      const x = uniform(rng, 2 * h * w * 3);
      const ref = runTfjs(model, x, [[2, h, w, 3]])[0]!;
      const out = await runOrt(bytes, { input: { data: x, dims: [2, h, w, 3] } });
      expect(maxAbsDiff(out['embedding']!.data, ref), `${h}x${w}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('leaves no tfjs tensors behind', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    await exportOnnx(model);
    const before = tf.memory().numTensors;
    await exportOnnx(model);
    await exportOnnx(model, { float16: true, normalize: true });
    expect(tf.memory().numTensors).toBe(before);
  });
});
