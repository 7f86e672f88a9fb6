import { resolveOptions } from '@ebmjs/contract';
import * as tfl from '@tensorflow/tfjs-layers';
import { bool, inputShape, layerName, positiveInt, positiveIntList, seed } from './checks.js';
import type { Encoder } from './encoder.js';
import { SeededInitializers } from './initializers.js';
import { L2Normalize } from './l2-normalize-layer.js';
import { applyTo, batchNorm, relu } from './layer-helpers.js';

export interface MlpEncoderOptions {
  /** Input shape without the batch dimension, or the input size; inputs of rank > 1 are flattened. */
  inputShape: number | number[];
  /** Hidden layer widths. Default [256]. */
  hiddenUnits?: number[];
  /** Output size. Default 128. */
  embeddingDim?: number;
  /** BatchNormalization after each hidden Dense. Default false. */
  batchNorm?: boolean;
  /** L2-normalise the output (custom layer `L2Normalize`). Default false. */
  l2Normalize?: boolean;
  /** Seed of every initializer: the same options build the same weights. Default 0. */
  seed?: number;
  /** Model name and layer-name prefix. Default 'mlp_encoder'. */
  name?: string;
  /** Name of the input layer. Default 'input'. */
  inputName?: string;
  /** Name of the output layer. Default 'embedding'. */
  outputName?: string;
}

/**
 * Fully connected encoder: [Flatten] → (Dense → [BN] → ReLU) × hidden → Dense(embeddingDim)
 * [→ L2Normalize]. For vectors and tiny images.
 */
export function mlpEncoder(options: MlpEncoderOptions): Encoder {
  const where = 'mlpEncoder';
  const o = resolveOptions(where, options, {
    inputShape: undefined,
    hiddenUnits: [256],
    embeddingDim: 128,
    batchNorm: false,
    l2Normalize: false,
    seed: 0,
    name: 'mlp_encoder',
    inputName: 'input',
    outputName: 'embedding',
  });
  const shape =
    typeof o.inputShape === 'number'
      ? [positiveInt(o.inputShape, `${where}: inputShape`)]
      : (inputShape(o.inputShape, `${where}: inputShape`, [1, 2, 3, 4]) as number[]);
  const hidden = positiveIntList(o.hiddenUnits, `${where}: hiddenUnits`, {
    allowEmpty: true,
  });
  const embeddingDim = positiveInt(o.embeddingDim, `${where}: embeddingDim`);
  const useBn = bool(o.batchNorm, `${where}: batchNorm`);
  const normalize = bool(o.l2Normalize, `${where}: l2Normalize`);
  const init = new SeededInitializers(seed(o.seed, `${where}: seed`));
  const name = layerName(o.name, `${where}: name`);
  const inputName = layerName(o.inputName, `${where}: inputName`);
  const outputName = layerName(o.outputName, `${where}: outputName`);

  const input = tfl.input({ shape, name: inputName });
  let x = input;
  if (shape.length > 1)
    x = tfl.layers.flatten({ name: `${name}_flatten` }).apply(x) as tfl.SymbolicTensor;
  hidden.forEach((units, i) => {
    const p = `${name}_dense${i + 1}`;
    x = tfl.layers
      .dense({ units, useBias: !useBn, kernelInitializer: init.he(), name: p })
      .apply(x) as tfl.SymbolicTensor;
    if (useBn) x = applyTo(batchNorm(`${p}_bn`), x);
    x = applyTo(relu(`${p}_relu`), x);
  });
  x = tfl.layers
    .dense({
      units: embeddingDim,
      kernelInitializer: init.glorot(),
      name: normalize ? `${name}_out` : outputName,
    })
    .apply(x) as tfl.SymbolicTensor;
  if (normalize) x = new L2Normalize({ name: outputName }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: x, name });
  return { model, embeddingDim, inputShape: shape };
}
