import { Rng } from '@ebmjs/core';
import { mlpEncoder, predictionHead, projectionHead, resnet18 } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { experimental } from '../../src/index.js';
import { inversePerm, permuteData } from '../../src/tensor-utils.js';
import { uniform } from '../helpers.js';
import { relErr, tfjsStep, toNchw } from './reference.js';

useCpuBackend();

const { buildSimclrStep, OrtTrainingEngine } = experimental;

const STEPS = 3;
/** Narrow stages (4, 8, 16, 32 channels): every layer of ResNet-18, at a test's cost. */
const WIDTH = 4;
const LR = 1e-3;
/** tfjs's default. */
const EPS = 1e-7;
const TAU = 0.5;

/**
 * Runs STEPS Adam steps of the compiled graph and of tfjs side by side; every loss, every
 * gradient (mapped back to the tfjs layout) and, at the end, every weight and BatchNorm moving
 * statistic must agree to 1e-4 relative. Returns the worst error seen.
 */
async function compareSteps(
  encoder: tfl.LayersModel,
  head: tfl.LayersModel,
  batch: number,
  shape: [number, number, number],
): Promise<number> {
  const graph = await buildSimclrStep(encoder, head, {
    batchSize: batch,
    temperature: TAU,
    outputGradients: true,
    optimizer: { kind: 'adam', epsilon: EPS },
  });
  const engine = await OrtTrainingEngine.create(ort as never, graph);
  const optimizer = tf.train.adam(LR, 0.9, 0.999, EPS);
  const rng = new Rng(3);
  const dims = [batch, ...shape];
  const size = dims.reduce((a, d) => a * d, 1);
  const byVariable = new Map(
    graph.state.filter((s) => s.kind === 'weight').map((s) => [s.source!.variable.name, s]),
  );
  let worst = 0;
  const check = (e: number, what: string) => {
    worst = Math.max(worst, e);
    expect(e, what).toBeLessThan(1e-4);
  };
  for (let step = 1; step <= STEPS; step++) {
    const v1 = uniform(rng, size, 0, 1);
    const v2 = uniform(rng, size, 0, 1);
    // Both sides start each step from the engine's state: float32 rounding (~1e-5 here, from
    // the different summation orders) is then not amplified from step to step by ReLUs flipping
    // and Adam's g/|g|, which in a 20-layer net would soon exceed any fixed bound.
    if (step > 1) syncTfjs(engine.tfjsValues());
    const ours = await engine.step(toNchw(v1, dims), toNchw(v2, dims), LR);
    const views = [tf.tensor4d(v1, dims as never), tf.tensor4d(v2, dims as never)] as [
      tf.Tensor4D,
      tf.Tensor4D,
    ];
    const ref = tfjsStep(encoder, head, views, optimizer, TAU);
    tf.dispose(views);
    check(Math.abs(ours.loss - ref.loss) / Math.abs(ref.loss), `loss at step ${step}`);
    expect(ref.grads.size).toBe(byVariable.size);
    for (const [name, g] of ref.grads) {
      const s = byVariable.get(name)!;
      const perm = s.source!.perm;
      const mine = ours.gradients.get(s.input)!;
      const back = perm === undefined ? mine : permuteData(mine, s.dims, inversePerm(perm)).data;
      check(relErr(back, g), `${name} gradient at step ${step}`);
    }
  }
  const values = engine.tfjsValues();
  expect(values.length).toBe([...encoder.weights, ...head.weights].length);
  for (const v of values) {
    check(relErr(v.data, v.variable.read().dataSync()), `${v.variable.name} after ${STEPS} steps`);
  }
  optimizer.dispose();
  await engine.release();
  return worst;
}

/** Writes the engine's weights and moving statistics into the tfjs variables. */
function syncTfjs(values: ReturnType<experimental.OrtTrainingEngine['tfjsValues']>): void {
  for (const v of values) {
    const t = tf.tensor(v.data, v.shape);
    v.variable.write(t);
    t.dispose();
  }
}

describe('experimental SimCLR step of every @ebmjs/models encoder and head vs tfjs', () => {
  it.each([
    // CIFAR stem: 3×3 convs, strided 'same' convs (asymmetric pads), 1×1 projection shortcuts,
    // residual Adds, global average pooling; 16×16 → 2×2 in the last stage.
    { stem: 'cifar', size: 16 },
    // ImageNet stem: 7×7 stride-2 conv and a 3×3 stride-2 'same' max-pool (overlapping, padded);
    // an odd size so that every stage pads differently: 17 → 9 → 5 → 5 → 3 → 2 → 1.
    { stem: 'imagenet', size: 17 },
  ] as const)(
    'resnet18 ($stem stem, width 4, $size×$size, batch 4) + projectionHead: 3 Adam steps equal tfjs',
    async ({ stem, size }) => {
      const enc = resnet18({ inputShape: [size, size, 3], width: WIDTH, stem, seed: 1 });
      const head = projectionHead({ inputDim: enc.embeddingDim, outputDim: 6, seed: 2 });
      const worst = await compareSteps(enc.model, head.model, 4, [size, size, 3]);
      console.log(`resnet18 ${stem}: worst relative error ${worst.toExponential(2)}`);
    },
    60_000,
  );

  it('resnet18 with a Dense embedding and L2Normalize + predictionHead', async () => {
    const enc = resnet18({
      inputShape: [16, 16, 3],
      width: 4,
      embeddingDim: 6,
      l2Normalize: true,
      seed: 3,
    });
    const head = predictionHead({ inputDim: 6, hiddenDim: 5, seed: 4 });
    await compareSteps(enc.model, head.model, 4, [16, 16, 3]);
  }, 60_000);

  it('mlpEncoder (flattened image, BatchNorm) + a 3-layer projectionHead', async () => {
    const enc = mlpEncoder({
      inputShape: [4, 5, 3],
      hiddenUnits: [16, 8],
      embeddingDim: 6,
      batchNorm: true,
      seed: 5,
    });
    const head = projectionHead({
      inputDim: 6,
      hiddenDim: 7,
      outputDim: 5,
      depth: 3,
      batchNorm: false,
      seed: 6,
    });
    await compareSteps(enc.model, head.model, 4, [4, 5, 3]);
  }, 60_000);

  it('mlpEncoder (L2Normalize, no BatchNorm) + a linear L2-normalised projectionHead', async () => {
    const enc = mlpEncoder({
      inputShape: [3, 3, 2],
      hiddenUnits: [8],
      embeddingDim: 6,
      l2Normalize: true,
      seed: 7,
    });
    const head = projectionHead({
      inputDim: 6,
      outputDim: 4,
      depth: 1,
      l2Normalize: true,
      seed: 8,
    });
    await compareSteps(enc.model, head.model, 4, [3, 3, 2]);
  }, 60_000);
});

/** Conv2D with a bias, DepthwiseConv2D and SeparableConv2D (grouped Convs), pooled. */
function separableEncoder(size: number, multiplier = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [size, size, 3] });
  let x = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .depthwiseConv2d({
      kernelSize: 3,
      padding: 'same',
      depthMultiplier: multiplier,
      // No bias: the BatchNorm after it would make its gradient exactly 0 (compared: noise).
      useBias: false,
    })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .separableConv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

describe('buildSimclrStep beyond @ebmjs/models', () => {
  it('Conv2D with a bias, DepthwiseConv2D and SeparableConv2D: 3 Adam steps equal tfjs', async () => {
    const head = projectionHead({ inputDim: 6, outputDim: 4, seed: 9 });
    await compareSteps(separableEncoder(9), head.model, 4, [9, 9, 3]);
  }, 60_000);

  it('refuses what it cannot compile with an UNSUPPORTED EbmError naming the layer or op', async () => {
    const head = projectionHead({ inputDim: 12, outputDim: 4 });
    await expect(
      buildSimclrStep(separableEncoder(9, 2), head.model, { batchSize: 2 }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/depthwise_conv2d.*depth multiplier 2/),
    });

    const input = tfl.input({ shape: [4, 4, 1] });
    const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    const tanh = tfl.layers
      .dense({ units: 5, activation: 'tanh' })
      .apply(flat) as tfl.SymbolicTensor;
    const encoder = tfl.model({ inputs: input, outputs: tanh });
    const head5 = projectionHead({ inputDim: 5, outputDim: 4 });
    await expect(buildSimclrStep(encoder, head5.model, { batchSize: 2 })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('Tanh'),
    });
  });
});
