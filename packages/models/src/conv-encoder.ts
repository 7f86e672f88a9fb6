import { resolveOptions } from '@ebmjs/contract';
import * as tfl from '@tensorflow/tfjs-layers';
import { bool, inputShape, layerName, positiveInt, positiveIntList, seed } from './checks.js';
import type { Encoder } from './encoder.js';
import { SeededInitializers } from './initializers.js';
import { L2Normalize } from './l2-normalize-layer.js';
import { applyTo, batchNorm, relu } from './layer-helpers.js';

export interface ConvEncoderOptions {
  /** [height, width, channels]; height and width may be null (fully convolutional). Default [28, 28, 1]. */
  inputShape?: (number | null)[];
  /** Filters of each conv block. Default [32, 64, 128]. */
  channels?: number[];
  /** Adds a Dense layer to this size after the pooling; default: no Dense, embeddingDim = last channels. */
  embeddingDim?: number;
  /** BatchNormalization after each conv. Default true. */
  batchNorm?: boolean;
  /** L2-normalise the output (custom layer `L2Normalize`). Default false. */
  l2Normalize?: boolean;
  /** Seed of every initializer. Default 0. */
  seed?: number;
  /** Model name and layer-name prefix. Default 'conv_encoder'. */
  name?: string;
  /** Default 'image'. */
  inputName?: string;
  /** Default 'embedding'. */
  outputName?: string;
}

/**
 * The demo's default encoder for 28×28×1 and 32×32×3 images. Each block is
 * Conv2D 3×3 (same padding, no bias when BN follows) → BatchNorm → ReLU, with a 2×2 max-pool
 * between blocks (28 → 14 → 7, 32 → 16 → 8), then GlobalAveragePooling2D [→ Dense] [→ L2Normalize].
 * Defaults: 93,344 parameters on 28×28×1 (92,896 trainable), embedding 128.
 */
export function convEncoder(options: ConvEncoderOptions = {}): Encoder {
  const where = 'convEncoder';
  const o = resolveOptions(where, options, {
    inputShape: [28, 28, 1],
    channels: [32, 64, 128],
    embeddingDim: undefined,
    batchNorm: true,
    l2Normalize: false,
    seed: 0,
    name: 'conv_encoder',
    inputName: 'image',
    outputName: 'embedding',
  });
  const shape = inputShape(o.inputShape, `${where}: inputShape`, 3, {
    allowNull: true,
  });
  positiveInt(shape[2], `${where}: inputShape[2] (channels)`);
  const channels = positiveIntList(o.channels, `${where}: channels`);
  const dense =
    o.embeddingDim === undefined
      ? undefined
      : positiveInt(o.embeddingDim, `${where}: embeddingDim`);
  const useBn = bool(o.batchNorm, `${where}: batchNorm`);
  const normalize = bool(o.l2Normalize, `${where}: l2Normalize`);
  const init = new SeededInitializers(seed(o.seed, `${where}: seed`));
  const name = layerName(o.name, `${where}: name`);
  const inputName = layerName(o.inputName, `${where}: inputName`);
  const outputName = layerName(o.outputName, `${where}: outputName`);

  const input = tfl.input({ shape, name: inputName });
  let x = input;
  channels.forEach((filters, i) => {
    const p = `${name}_block${i + 1}`;
    if (i > 0) {
      // 'same' pooling keeps odd sizes (7 → 4) and tiny test inputs valid.
      x = tfl.layers
        .maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: `${p}_pool` })
        .apply(x) as tfl.SymbolicTensor;
    }
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: !useBn,
        kernelInitializer: init.he(),
        name: `${p}_conv`,
      })
      .apply(x) as tfl.SymbolicTensor;
    if (useBn) x = applyTo(batchNorm(`${p}_bn`), x);
    x = applyTo(relu(`${p}_relu`), x);
  });
  const last = dense === undefined && !normalize;
  x = tfl.layers
    .globalAveragePooling2d({ name: last ? outputName : `${name}_pool` })
    .apply(x) as tfl.SymbolicTensor;
  if (dense !== undefined) {
    x = tfl.layers
      .dense({
        units: dense,
        kernelInitializer: init.glorot(),
        name: normalize ? `${name}_dense` : outputName,
      })
      .apply(x) as tfl.SymbolicTensor;
  }
  if (normalize) x = new L2Normalize({ name: outputName }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: x, name });
  return { model, embeddingDim: dense ?? channels[channels.length - 1]!, inputShape: shape };
}
