import { convEncoder, L2Normalize, mlpEncoder, projectionHead, resnet18 } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { exportOnnx, inspectOnnx, METADATA_KEYS } from '../src/index.js';
import { parity, randomizeWeights } from './helpers.js';

useCpuBackend();

type Sym = tfl.SymbolicTensor;

/** Encoder followed by a head, as one functional model nesting both. */
function withHead(encoder: tfl.LayersModel, head: tfl.LayersModel): tfl.LayersModel {
  const shape = encoder.inputs[0]!.shape.slice(1);
  const input = tfl.input({ shape });
  return tfl.model({
    inputs: input,
    outputs: head.apply(encoder.apply(input)) as Sym,
    name: `${encoder.name}_with_head`,
  });
}

const worst = { float32: 0 };

/**
 * Parity in both layouts; `transposes` gives the expected Transpose count per layout (conv
 * encoders: one NHWC->NCHW at the input, none at all for NCHW input).
 */
async function expectParity(
  model: tfl.LayersModel,
  transposes?: { NHWC: number; NCHW: number },
  layouts: ('NHWC' | 'NCHW')[] = ['NHWC', 'NCHW'],
) {
  for (const layout of layouts) {
    const { maxDiff, bytes } = await parity(model, exportOnnx, { layout });
    worst.float32 = Math.max(worst.float32, maxDiff);
    expect(maxDiff, `${model.name} ${layout}`).toBeLessThanOrEqual(1e-4);
    if (transposes !== undefined) {
      expect(
        inspectOnnx(bytes).opCounts['Transpose'] ?? 0,
        `${model.name} ${layout} Transposes`,
      ).toBe(transposes[layout]);
    }
  }
}

const CONV = { NHWC: 1, NCHW: 0 };

describe('parity for every @ebmjs/models encoder (batch 1 and 7, NHWC and NCHW)', () => {
  it('L2Normalize is recognised and reported as output normalization', async () => {
    const enc = mlpEncoder({ inputShape: 6, hiddenUnits: [8], embeddingDim: 4, l2Normalize: true });
    expect(enc.model.layers.some((l) => l instanceof L2Normalize)).toBe(true);
    await expectParity(enc.model, { NHWC: 0, NCHW: 0 }, ['NHWC']);
    const meta = inspectOnnx(await exportOnnx(enc.model)).metadata;
    expect(meta[METADATA_KEYS.outputNormalization]).toBe('l2');
    expect(meta[METADATA_KEYS.embeddingDim]).toBe('4');
  });

  it('mlpEncoder (with BN, on images flattened in NHWC order) with and without a projection head', async () => {
    const enc = mlpEncoder({
      inputShape: [4, 4, 2],
      hiddenUnits: [16, 8],
      embeddingDim: 8,
      batchNorm: true,
      seed: 1,
    });
    randomizeWeights(enc.model, 1);
    // NCHW input: the Transpose back to NHWC order for the Flatten is folded into the Dense weights.
    const flat = { NHWC: 0, NCHW: 0 };
    await expectParity(enc.model, flat);
    const head = projectionHead({
      inputDim: 8,
      hiddenDim: 8,
      outputDim: 4,
      l2Normalize: true,
      seed: 2,
    });
    randomizeWeights(head.model, 2);
    await expectParity(withHead(enc.model, head.model), flat);
  });

  it('convEncoder, fixed and free spatial size, with and without a head', async () => {
    const enc = convEncoder({
      inputShape: [12, 12, 1],
      channels: [4, 8, 8],
      embeddingDim: 6,
      seed: 3,
    });
    randomizeWeights(enc.model, 3);
    await expectParity(enc.model, CONV);
    const head = projectionHead({ inputDim: 6, outputDim: 5, seed: 4 });
    randomizeWeights(head.model, 4);
    await expectParity(withHead(enc.model, head.model), CONV);
    const free = convEncoder({
      inputShape: [null, null, 3],
      channels: [4, 4],
      l2Normalize: true,
      seed: 5,
    });
    randomizeWeights(free.model, 5);
    const bytes = await exportOnnx(free.model);
    expect(inspectOnnx(bytes).inputs[0]!.shape).toEqual(['batch', 'input_dim1', 'input_dim2', 3]);
  });

  for (const stem of ['cifar', 'imagenet'] as const) {
    it(`resnet18 (${stem} stem, width 8) with and without a head`, async () => {
      const size = stem === 'cifar' ? 16 : 32;
      const enc = resnet18({ inputShape: [size, size, 3], stem, width: 8, seed: 6 });
      randomizeWeights(enc.model, 6);
      await expectParity(enc.model, CONV);
      const head = projectionHead({
        inputDim: enc.embeddingDim,
        hiddenDim: 16,
        outputDim: 8,
        l2Normalize: true,
        seed: 7,
      });
      randomizeWeights(head.model, 7);
      await expectParity(withHead(enc.model, head.model), CONV);
    });
  }

  it('resnet18 (full width 64, 11M parameters) on onnxruntime-node and onnxruntime-web (wasm)', async () => {
    const enc = resnet18({
      inputShape: [8, 8, 3],
      width: 64,
      embeddingDim: 32,
      l2Normalize: true,
      seed: 8,
    });
    randomizeWeights(enc.model, 8);
    const { maxDiff, bytes } = await parity(enc.model, exportOnnx, {
      layout: 'NCHW',
      flavors: ['node', 'web'],
    });
    worst.float32 = Math.max(worst.float32, maxDiff);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    const ops = inspectOnnx(bytes).opCounts;
    expect(ops['Conv']).toBe(20); // stem + 16 block convs + 3 projection shortcuts
    expect(ops['Transpose'] ?? 0).toBe(0);
    console.log(
      `@ebmjs/models: max |ORT − tfjs| ${worst.float32.toExponential(2)} (ResNet-18 width 64 on node and web: ${maxDiff.toExponential(2)}), ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB`,
    );
  });
});
