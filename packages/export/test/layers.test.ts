import { useCpuBackend } from '@ebmjs/test-utils';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { exportOnnx, inspectOnnx, SUPPORTED_ACTIVATIONS } from '../src/index.js';
import { maxAbsDiff, parity, Rng, randomizeWeights, runOrt, uniform } from './helpers.js';

useCpuBackend();

type Factory = () => tfl.LayersModel;

/** A functional model applying `layers` in order to an input of `inputShape`. */
const seq =
  (inputShape: number[], layers: tfl.layers.Layer[]): Factory =>
  () => {
    const input = tfl.input({ shape: inputShape });
    let x = input;
    for (const layer of layers) x = layer.apply(x) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: x });
  };

/** Single-layer (or few-layer) nets on an 8x8 or 9x9 image, each checked NHWC and NCHW. */
const imageCases: Record<string, () => tfl.layers.Layer[]> = {
  'Conv2D valid': () => [tfl.layers.conv2d({ filters: 4, kernelSize: 3 })],
  'Conv2D same stride 2 (odd size: asymmetric pads)': () => [
    tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
  ],
  'Conv2D same stride 2 kernel 4 (even kernel)': () => [
    tfl.layers.conv2d({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
  ],
  'Conv2D non-square kernel and strides': () => [
    tfl.layers.conv2d({ filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: 'same' }),
  ],
  'Conv2D dilation 2 same': () => [
    tfl.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' }),
  ],
  'Conv2D with activation': () => [
    tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'selu' }),
  ],
  'DepthwiseConv2D multiplier 2 same stride 2': () => [
    tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
  ],
  'DepthwiseConv2D valid relu6': () => [
    tfl.layers.depthwiseConv2d({ kernelSize: 3, activation: 'relu6' }),
  ],
  'SeparableConv2D same stride 2': () => [
    tfl.layers.separableConv2d({
      filters: 5,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      depthMultiplier: 2,
    }),
  ],
  'SeparableConv2D dilation 2': () => [
    tfl.layers.separableConv2d({
      filters: 5,
      kernelSize: 3,
      dilationRate: 2,
      padding: 'same',
      useBias: false,
    }),
  ],
  BatchNormalization: () => [tfl.layers.batchNormalization()],
  'BatchNormalization epsilon 0.1, no scale/center': () => [
    tfl.layers.batchNormalization({ epsilon: 0.1, scale: false, center: false }),
  ],
  'MaxPooling2D same stride 2': () => [
    tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
  ],
  'MaxPooling2D valid': () => [tfl.layers.maxPooling2d({ poolSize: 2 })],
  'AveragePooling2D same (excludes padding)': () => [
    tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
  ],
  'AveragePooling2D valid': () => [tfl.layers.averagePooling2d({ poolSize: [2, 3] })],
  GlobalAveragePooling2D: () => [tfl.layers.globalAveragePooling2d({})],
  GlobalMaxPooling2D: () => [tfl.layers.globalMaxPooling2d({})],
  'ZeroPadding2D then Conv2D': () => [
    tfl.layers.zeroPadding2d({
      padding: [
        [1, 2],
        [0, 3],
      ],
    }),
    tfl.layers.conv2d({ filters: 2, kernelSize: 3 }),
  ],
  'Flatten (NHWC element order) then Dense': () => [
    tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2 }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 5 }),
  ],
  'Flatten as output': () => [
    tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2 }),
    tfl.layers.flatten(),
  ],
  'Reshape then Dense': () => [
    tfl.layers.reshape({ targetShape: [-1, 9] }),
    tfl.layers.dense({ units: 2 }),
  ],
  Permute: () => [tfl.layers.permute({ dims: [3, 1, 2] })],
  'Dropout / SpatialDropout / GaussianNoise (identity)': () => [
    tfl.layers.dropout({ rate: 0.5 }),
    tfl.layers.gaussianNoise({ stddev: 1 }),
    tfl.layers.gaussianDropout({ rate: 0.3 }),
    tfl.layers.conv2d({ filters: 2, kernelSize: 1 }),
  ],
  'PReLU (shared over H, W)': () => [
    tfl.layers.conv2d({ filters: 3, kernelSize: 3 }),
    tfl.layers.prelu({ sharedAxes: [1, 2] }),
  ],
  'PReLU (per element)': () => [tfl.layers.prelu({})],
  'Rescaling then Conv2D': () => [
    tfl.layers.rescaling({ scale: 1 / 127.5, offset: -1 }),
    tfl.layers.conv2d({ filters: 2, kernelSize: 3 }),
  ],
  'Softmax layer over channels': () => [tfl.layers.softmax({ axis: -1 })],
  'LayerNormalization over channels': () => [tfl.layers.layerNormalization({})],
  'LayerNormalization over H, W, C': () => [tfl.layers.layerNormalization({ axis: [1, 2, 3] })],
};

const vectorCases: Record<string, () => tfl.layers.Layer[]> = {
  Dense: () => [tfl.layers.dense({ units: 5 })],
  'Dense without bias': () => [tfl.layers.dense({ units: 5, useBias: false })],
  'BatchNormalization on vectors': () => [tfl.layers.batchNormalization({ epsilon: 1e-5 })],
  'LeakyReLU default alpha': () => [tfl.layers.leakyReLU({})],
  'LeakyReLU alpha 0.1': () => [tfl.layers.leakyReLU({ alpha: 0.1 })],
  'ReLU maxValue 0.5': () => [tfl.layers.reLU({ maxValue: 0.5 })],
  ReLU: () => [tfl.layers.reLU({})],
  ELU: () => [tfl.layers.elu({})],
  ThresholdedReLU: () => [tfl.layers.thresholdedReLU({ theta: 0.2 })],
  'Softmax layer': () => [tfl.layers.softmax({})],
  'LayerNormalization on vectors': () => [tfl.layers.layerNormalization({ epsilon: 1e-5 })],
};

describe('layer parity on images (batch 1 and 7 through one model)', () => {
  for (const [name, layers] of Object.entries(imageCases)) {
    for (const layout of ['NHWC', 'NCHW'] as const) {
      it(`${name} [${layout}]`, async () => {
        const model = seq([9, 9, 3], layers())();
        randomizeWeights(model, 11);
        const { maxDiff } = await parity(model, exportOnnx, { layout });
        expect(maxDiff).toBeLessThanOrEqual(1e-4);
      });
    }
  }
});

describe('layer parity on vectors', () => {
  for (const [name, layers] of Object.entries(vectorCases)) {
    it(name, async () => {
      const model = seq([6], layers())();
      randomizeWeights(model, 12);
      const { maxDiff } = await parity(model, exportOnnx, { range: 3 });
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
    });
  }
  it('Dense on rank-3 input (MatMul over the last axis)', async () => {
    const model = seq([4, 6], [tfl.layers.dense({ units: 3, activation: 'tanh' })])();
    randomizeWeights(model, 13);
    const { maxDiff } = await parity(model, exportOnnx);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });
  it('GlobalAveragePooling1D / GlobalMaxPooling1D', async () => {
    for (const layer of [
      tfl.layers.globalAveragePooling1d({}),
      tfl.layers.globalMaxPooling1d({}),
    ]) {
      const model = seq([5, 4], [layer])();
      const { maxDiff } = await parity(model, exportOnnx);
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe('channelsFirst layers (input already NCHW)', () => {
  it("Conv2D, DepthwiseConv2D, pooling, ZeroPadding2D and Flatten need no Transpose but Flatten's", async () => {
    const layers = [
      tfl.layers.zeroPadding2d({ padding: 1, dataFormat: 'channelsFirst' }),
      tfl.layers.conv2d({
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        dataFormat: 'channelsFirst',
      }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', dataFormat: 'channelsFirst' }),
      tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same', dataFormat: 'channelsFirst' }),
      tfl.layers.flatten({ dataFormat: 'channelsFirst' }),
      tfl.layers.dense({ units: 3 }),
    ];
    const model = seq([3, 9, 9], layers)();
    randomizeWeights(model, 14);
    const { maxDiff, bytes } = await parity(model, exportOnnx);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    // Flatten's channels-last reordering is folded into the Dense weights.
    expect(inspectOnnx(bytes).opCounts['Transpose'] ?? 0).toBe(0);
  });

  it('BatchNormalization over axis 1 follows Keras semantics (tfjs-backend-cpu mis-broadcasts it)', async () => {
    // tfjs's cpu BatchNorm kernel cycles the parameters over the flat data, which is only right
    // for the last axis; the reference here is the formula itself.
    const model = seq([3, 4, 5], [tfl.layers.batchNormalization({ axis: 1, epsilon: 0.01 })])();
    randomizeWeights(model, 15);
    const [gamma, beta, mean, variance] = model.layers[1]!.getWeights().map((w) => w.dataSync());
    const x = uniform(new Rng(16), 2 * 60);
    const expected = x.map((v, i) => {
      const c = Math.floor(i / 20) % 3;
      return ((v - mean![c]!) / Math.sqrt(variance![c]! + 0.01)) * gamma![c]! + beta![c]!;
    });
    const bytes = await exportOnnx(model);
    const out = await runOrt(bytes, { input: { data: x, dims: [2, 3, 4, 5] } });
    expect(maxAbsDiff(out['embedding']!.data, expected)).toBeLessThanOrEqual(1e-5);
  });
});

describe('every activation identifier tfjs-layers serializes', () => {
  for (const activation of SUPPORTED_ACTIVATIONS) {
    it(activation, async () => {
      const model = seq([8], [tfl.layers.dense({ units: 6, activation: activation as 'relu' })])();
      randomizeWeights(model, 21);
      // Inputs up to ±4 reach the saturating and negative branches of every function.
      const { maxDiff } = await parity(model, exportOnnx, { range: 4 });
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
    });
  }
  it('Activation layers on feature maps', async () => {
    const layers = ['gelu', 'swish', 'mish', 'softplus', 'hardSigmoid', 'elu'].map((a) =>
      tfl.layers.activation({ activation: a as 'relu' }),
    );
    for (const layer of layers) {
      const model = seq([5, 5, 2], [tfl.layers.conv2d({ filters: 2, kernelSize: 1 }), layer])();
      randomizeWeights(model, 22);
      const { maxDiff } = await parity(model, exportOnnx, { layout: 'NCHW', range: 3 });
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
    }
  });
});
