import { l2Normalize } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import {
  EBMJS_VERSION,
  exportOnnx,
  inspectOnnx,
  METADATA_KEYS,
  readOnnxMetadata,
} from '../src/index.js';
import { maxAbsDiff, parity, Rng, randomizeWeights, runOrt, uniform } from './helpers.js';
import { resnetLike } from './resnet-like.js';

useCpuBackend();

type Sym = tfl.SymbolicTensor;

/** Uses every opset-sensitive op: Reduce* (GAP, LayerNorm), Softmax, Clip, Pad, Erf. */
function opsetProbe(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 2] });
  let x = tfl.layers.zeroPadding2d({ padding: 1 }).apply(input) as Sym;
  x = tfl.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu6' }).apply(x) as Sym;
  x = tfl.layers.layerNormalization({}).apply(x) as Sym;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as Sym;
  x = tfl.layers.dense({ units: 4, activation: 'gelu' }).apply(x) as Sym;
  x = tfl.layers.softmax({}).apply(x) as Sym;
  return tfl.model({ inputs: input, outputs: x });
}

describe('options', () => {
  it('opset 13 to 21 (IR version 8 by default, higher where the opset needs it)', async () => {
    const model = opsetProbe();
    randomizeWeights(model, 1);
    for (const [opset, ir] of [
      [13, 8],
      [17, 8],
      [18, 8],
      [21, 10],
    ] as const) {
      const { maxDiff, bytes } = await parity(model, exportOnnx, { exportOptions: { opset } });
      expect(maxDiff, `opset ${opset}`).toBeLessThanOrEqual(1e-4);
      const summary = inspectOnnx(bytes);
      expect(summary.opset).toBe(opset);
      expect(summary.irVersion).toBe(ir);
    }
    const defaults = inspectOnnx(await exportOnnx(model));
    expect([defaults.opset, defaults.irVersion]).toEqual([17, 8]);
  });

  it('dynamicBatch: false writes a fixed batch size', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    const fixed = inspectOnnx(await exportOnnx(model, { dynamicBatch: false, batchSize: 4 }));
    expect(fixed.inputs[0]!.shape).toEqual([4, 3]);
    expect(fixed.outputs[0]!.shape).toEqual([4, 2]);
    expect(fixed.metadata[METADATA_KEYS.inputShape]).toBe('[4,3]');
    const dynamic = inspectOnnx(await exportOnnx(model));
    expect(dynamic.inputs[0]!.shape).toEqual(['batch', 3]);
    expect(dynamic.outputs[0]!.shape).toEqual(['batch', 2]);
  });

  it('normalize: true appends an L2 normalization equal to @ebmjs/core l2Normalize, zero vectors stay 0', async () => {
    const input = tfl.input({ shape: [5] });
    const dense = tfl.layers.dense({ units: 4, useBias: false });
    const model = tfl.model({ inputs: input, outputs: dense.apply(input) as Sym });
    randomizeWeights(model, 2);
    const x = uniform(new Rng(3), 7 * 5);
    x.fill(0, 0, 5); // A row that the bias-free Dense maps to the zero vector.
    const ref = tf.tidy(() =>
      l2Normalize(model.predict(tf.tensor2d(x, [7, 5])) as tf.Tensor)
        .dataSync()
        .slice(),
    );
    // Opset 13 and 18 differ in how ReduceSumSquare takes its axes.
    for (const opset of [13, 17, 18]) {
      const bytes = await exportOnnx(model, { normalize: true, opset });
      const out = (await runOrt(bytes, { input: { data: x, dims: [7, 5] } }))['embedding']!.data;
      expect(maxAbsDiff(out, ref), `opset ${opset}`).toBeLessThanOrEqual(1e-6);
      expect(Array.from(out.slice(0, 4))).toEqual([0, 0, 0, 0]);
      for (let r = 1; r < 7; r++)
        expect(Math.hypot(...out.slice(4 * r, 4 * r + 4))).toBeCloseTo(1, 5);
      expect(readOnnxMetadata(bytes)[METADATA_KEYS.outputNormalization]).toBe('l2');
    }
  });

  it('float16: weights stored as FLOAT16 with Casts, about half the bytes, within 1e-2 relative', async () => {
    const model = resnetLike({ width: 16 });
    randomizeWeights(model, 4);
    const full = await exportOnnx(model);
    const { maxDiff, maxRef, bytes } = await parity(model, exportOnnx, {
      exportOptions: { float16: true },
    });
    expect(maxDiff / maxRef).toBeLessThanOrEqual(1e-2);
    expect(bytes.byteLength).toBeLessThan(0.6 * full.byteLength);
    const summary = inspectOnnx(bytes);
    const types = Object.values(summary.initializerTypes);
    expect(types.filter((t) => t === 10).length).toBeGreaterThan(20); // FLOAT16
    expect(summary.opCounts['Cast']).toBe(types.filter((t) => t === 10).length);
    expect(summary.metadata[METADATA_KEYS.weightsDtype]).toBe('float16');
    // Still one Transpose: the pass runs before the weights are converted.
    expect(summary.opCounts['Transpose']).toBe(1);
  });

  it('writes every metadata key: version, recipe, input shape/layout, preprocessing, embedding dim, normalization', async () => {
    const model = resnetLike({ size: 12 });
    const meta = readOnnxMetadata(
      await exportOnnx(model, {
        layout: 'NCHW',
        recipe: 'simclr',
        preprocessing: {
          scale: 1 / 255,
          mean: [0.4914, 0.4822, 0.4465],
          std: [0.247, 0.243, 0.261],
        },
        metadata: { dataset: 'cifar10' },
      }),
    );
    expect(meta).toEqual({
      'ebmjs.version': EBMJS_VERSION,
      'ebmjs.recipe': 'simclr',
      'ebmjs.input_shape': '[null,3,12,12]',
      'ebmjs.input_layout': 'NCHW',
      'ebmjs.preprocessing.scale': JSON.stringify(1 / 255),
      'ebmjs.preprocessing.mean': '[0.4914,0.4822,0.4465]',
      'ebmjs.preprocessing.std': '[0.247,0.243,0.261]',
      'ebmjs.embedding_dim': '6',
      'ebmjs.output_normalization': 'none',
      'ebmjs.weights_dtype': 'float32',
      'ebmjs.model_name': 'resnet_like',
      dataset: 'cifar10',
    });
    const defaults = readOnnxMetadata(await exportOnnx(model));
    expect(defaults['ebmjs.recipe']).toBe('unknown');
    expect(defaults['ebmjs.input_layout']).toBe('NHWC');
    expect(defaults['ebmjs.input_shape']).toBe('[null,12,12,3]');
    expect([
      defaults['ebmjs.preprocessing.scale'],
      defaults['ebmjs.preprocessing.mean'],
      defaults['ebmjs.preprocessing.std'],
    ]).toEqual(['1', '0', '1']);
  });

  it('EBMJS_VERSION matches package.json and is the producer_version', async () => {
    expect(EBMJS_VERSION).toBe(pkg.version);
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 1 })] });
    const summary = inspectOnnx(await exportOnnx(model));
    expect([summary.producerName, summary.producerVersion]).toEqual(['ebm.js', EBMJS_VERSION]);
  });

  it('customLayers converts a layer class the exporter does not know', async () => {
    class TimesTwo extends tfl.layers.Layer {
      static readonly className = 'TimesTwoForExportTest';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 2);
      }
    }
    tf.serialization.registerClass(TimesTwo);
    const input = tfl.input({ shape: [3] });
    const model = tfl.model({
      inputs: input,
      outputs: new TimesTwo({ name: 'twice' }).apply(input) as Sym,
    });
    await expect(exportOnnx(model)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('layer "twice" of class TimesTwoForExportTest'),
    });
    const { maxDiff } = await parity(model, exportOnnx, {
      exportOptions: {
        customLayers: {
          TimesTwoForExportTest: ({
            ctx,
            inputs,
            layer,
          }: {
            ctx: {
              builder: { op: (...a: unknown[]) => string; constFloat: (v: number[]) => string };
            };
            inputs: string[];
            layer: { name: string };
          }) => [ctx.builder.op('Mul', [inputs[0]!, ctx.builder.constFloat([2])], layer.name)],
        },
      },
    });
    expect(maxDiff).toBe(0);
  });
});
