import { isEbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { exportOnnx, inspectOnnx, readOnnxMetadata } from '../src/index.js';

useCpuBackend();

type Sym = tfl.SymbolicTensor;

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(isEbmError(error), String(error)).toBe(true);
    return error as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

const mlp = () => tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3 })] });

describe('clear errors for bad models', () => {
  it('rejects things that are not LayersModels', async () => {
    for (const bad of [null, undefined, 42, {}, tf.zeros([2])]) {
      const e = await rejection(exportOnnx(bad as unknown as tfl.LayersModel));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(/exportOnnx: model must be a tfjs-layers LayersModel/);
    }
  });

  it('rejects a Sequential model that was never built', async () => {
    const e = await rejection(exportOnnx(tfl.sequential()));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/is not built: give its first layer an inputShape/);
  });

  it('names the class and the name of an unsupported layer', async () => {
    const cases: [tfl.layers.Layer, number[], string][] = [
      [tfl.layers.conv1d({ filters: 2, kernelSize: 2, name: 'my_conv1d' }), [6, 3], 'Conv1D'],
      [
        tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 2, name: 'my_deconv' }),
        [4, 4, 2],
        'Conv2DTranspose',
      ],
      [tfl.layers.upSampling2d({ name: 'my_upsampling' }), [4, 4, 2], 'UpSampling2D'],
      [tfl.layers.repeatVector({ n: 2, name: 'my_repeat' }), [3], 'RepeatVector'],
    ];
    for (const [layer, shape, className] of cases) {
      const input = tfl.input({ shape });
      const model = tfl.model({ inputs: input, outputs: layer.apply(input) as Sym });
      const e = await rejection(exportOnnx(model));
      expect(e.code).toBe('UNSUPPORTED');
      expect(e.message).toContain(`layer "${layer.name}" of class ${className} is not supported`);
      expect(e.message).toContain('supported: ');
    }
  });

  it('names unsupported settings of supported layers', async () => {
    // A custom L2-normalize layer (recognised by class name) normalizing over the batch axis.
    class UnitNormalization extends tfl.layers.Layer {
      static readonly className = 'UnitNormalization';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        return tf.tidy(() => tf.div(x, tf.norm(x, 2, 0, true)));
      }
      override getConfig(): tf.serialization.ConfigDict {
        return { ...super.getConfig(), axis: 0 };
      }
    }
    const input = tfl.input({ shape: [3] });
    const model = tfl.model({
      inputs: input,
      outputs: new UnitNormalization({ name: 'batch_norm_ish' }).apply(input) as Sym,
    });
    const e = await rejection(exportOnnx(model));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain(
      'layer "batch_norm_ish" of class UnitNormalization is not supported: axis 0 of a rank-2 input',
    );
  });

  it('refuses non-finite weights, naming the layer and the weight', async () => {
    const model = mlp();
    const [kernel, bias] = model.layers[0]!.getWeights();
    model.layers[0]!.setWeights([kernel!, tf.tensor1d([0, Number.NaN, 0])]);
    const e = await rejection(exportOnnx(model));
    expect(e.code).toBe('NON_FINITE');
    expect(e.message).toMatch(/weight ".*bias" of layer ".*" \(Dense\) holds NaN at index 1/);
    tf.dispose([kernel!, bias!]);
  });

  it('refuses integer inputs', async () => {
    const input = tfl.input({ shape: [3], dtype: 'int32' });
    const model = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 2 }).apply(input) as Sym,
    });
    const e = await rejection(exportOnnx(model));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain('dtype int32; only float32 inputs are supported');
  });

  it('float16 refuses weights beyond its range', async () => {
    const model = mlp();
    model.layers[0]!.setWeights([tf.fill([4, 3], 1e5), tf.zeros([3])]);
    const e = await rejection(exportOnnx(model, { float16: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/beyond float16's range/);
  });
});

describe('clear errors for bad options', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ opset: 12 }, /option "opset" must be an integer from 13 to 21, received 12/],
    [{ opset: 17.5 }, /option "opset" must be an integer from 13 to 21/],
    [
      { opset: 21, irVersion: 8 },
      /option "irVersion" must be an integer from 10 to 10 for opset 21, received 8/,
    ],
    [{ layout: 'NWHC' }, /option "layout" must be "NHWC" or "NCHW", received "NWHC"/],
    [{ float16: 'yes' }, /option "float16" must be a boolean, received "yes"/],
    [
      { batchSize: 0, dynamicBatch: false },
      /option "batchSize" must be a positive integer, received 0/,
    ],
    [{ fp16: true }, /unknown option "fp16"/],
    [
      { preprocessing: { std: [1, 0, 1] } },
      /option "preprocessing.std" must be a positive finite number/,
    ],
    [
      { preprocessing: { mean: [0.5, 0.5] } },
      /"preprocessing.mean" has 2 values but the input has 4 channels/,
    ],
    [{ metadata: { 'ebmjs.version': 'x' } }, /reserved "ebmjs." prefix/],
    [{ metadata: { note: 3 } }, /option "metadata.note" must be a string, received 3/],
    [{ recipe: '' }, /option "recipe" must be a non-empty string/],
  ];
  for (const [options, message] of cases) {
    it(JSON.stringify(options), async () => {
      const e = await rejection(exportOnnx(mlp(), options));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
    });
  }
});

describe('clear errors for corrupt ONNX bytes', () => {
  it('inspectOnnx / readOnnxMetadata reject bytes that are not an ONNX model', async () => {
    const good = await exportOnnx(mlp());
    const corrupt = [
      good.slice(0, good.byteLength - 7), // truncated
      new TextEncoder().encode('{"format": "layers-model"}'), // another format
      new Uint8Array(0), // empty
      Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256), // noise
    ];
    for (const bytes of corrupt) {
      expect(() => readOnnxMetadata(bytes)).toThrow(
        expect.objectContaining({ code: 'CORRUPT_FILE' }),
      );
      expect(() => inspectOnnx(bytes)).toThrow(/not (a valid ONNX model|an ONNX model)/);
    }
    expect(readOnnxMetadata(good)['ebmjs.embedding_dim']).toBe('3');
  });
});
