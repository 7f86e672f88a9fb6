import { resolveOptions } from '@ebmjs/contract';
import { EbmError } from '@ebmjs/core';
import * as tfl from '@tensorflow/tfjs-layers';
import { bool, inputShape, layerName, positiveInt, seed } from './checks.js';
import type { Encoder } from './encoder.js';
import { SeededInitializers } from './initializers.js';
import { L2Normalize } from './l2-normalize-layer.js';
import { applyTo, batchNorm, relu } from './layer-helpers.js';

export interface ResNet18Options {
  /** [height, width, channels]; height and width may be null. Default [32, 32, 3]. */
  inputShape?: (number | null)[];
  /**
   * 'cifar': 3×3 conv, stride 1, no max-pool (for 32×32 images).
   * 'imagenet': 7×7 conv, stride 2, then 3×3 max-pool, stride 2. Default 'cifar'.
   */
  stem?: 'cifar' | 'imagenet';
  /** Channels of the first stage; the stages have width, 2·width, 4·width, 8·width. Default 64. */
  width?: number;
  /** Adds a Dense layer to this size after the pooling; default: none, embeddingDim = 8·width. */
  embeddingDim?: number;
  /** L2-normalise the output (custom layer `L2Normalize`). Default false. */
  l2Normalize?: boolean;
  /** Seed of every initializer. Default 0. */
  seed?: number;
  /** Model name and layer-name prefix. Default 'resnet18'. */
  name?: string;
  /** Default 'image'. */
  inputName?: string;
  /** Default 'embedding'. */
  outputName?: string;
}

const BLOCKS_PER_STAGE = [2, 2, 2, 2] as const;

/**
 * ResNet-18 (He et al. 2016) without its classifier: stem → 4 stages of 2 BasicBlocks
 * (conv3×3-BN-ReLU-conv3×3-BN + shortcut, ReLU after the Add; the first block of stages 2–4
 * has stride 2 and a 1×1 conv-BN projection shortcut) → GlobalAveragePooling2D.
 * Width 64 with the CIFAR stem: 11,168,832 trainable parameters (+9,600 BN moving statistics);
 * with the ImageNet stem: 11,176,512, as torchvision's resnet18 without `fc`.
 */
export function resnet18(options: ResNet18Options = {}): Encoder {
  const where = 'resnet18';
  const o = resolveOptions(where, options, {
    inputShape: [32, 32, 3],
    stem: 'cifar',
    width: 64,
    embeddingDim: undefined,
    l2Normalize: false,
    seed: 0,
    name: 'resnet18',
    inputName: 'image',
    outputName: 'embedding',
  });
  const shape = inputShape(o.inputShape, `${where}: inputShape`, 3, {
    allowNull: true,
  });
  positiveInt(shape[2], `${where}: inputShape[2] (channels)`);
  const stem = o.stem;
  if (stem !== 'cifar' && stem !== 'imagenet') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: stem must be 'cifar' or 'imagenet', received ${String(stem)}.`,
      {
        argument: 'stem',
        received: stem,
      },
    );
  }
  const width = positiveInt(o.width, `${where}: width`);
  const dense =
    o.embeddingDim === undefined
      ? undefined
      : positiveInt(o.embeddingDim, `${where}: embeddingDim`);
  const normalize = bool(o.l2Normalize, `${where}: l2Normalize`);
  const init = new SeededInitializers(seed(o.seed, `${where}: seed`));
  const name = layerName(o.name, `${where}: name`);
  const inputName = layerName(o.inputName, `${where}: inputName`);
  const outputName = layerName(o.outputName, `${where}: outputName`);

  const conv = (
    x: tfl.SymbolicTensor,
    filters: number,
    kernelSize: number,
    strides: number,
    n: string,
  ) =>
    applyTo(
      tfl.layers.conv2d({
        filters,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: init.he(),
        name: n,
      }),
      x,
    );

  const input = tfl.input({ shape, name: inputName });
  let x: tfl.SymbolicTensor;
  if (stem === 'cifar') {
    x = conv(input, width, 3, 1, `${name}_stem_conv`);
    x = applyTo(relu(`${name}_stem_relu`), applyTo(batchNorm(`${name}_stem_bn`), x));
  } else {
    x = conv(input, width, 7, 2, `${name}_stem_conv`);
    x = applyTo(relu(`${name}_stem_relu`), applyTo(batchNorm(`${name}_stem_bn`), x));
    x = applyTo(
      tfl.layers.maxPooling2d({
        poolSize: 3,
        strides: 2,
        padding: 'same',
        name: `${name}_stem_pool`,
      }),
      x,
    );
  }

  let channels = width;
  BLOCKS_PER_STAGE.forEach((blocks, stage) => {
    const filters = width * 2 ** stage;
    for (let b = 0; b < blocks; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const p = `${name}_stage${stage + 1}_block${b + 1}`;
      let y = conv(x, filters, 3, stride, `${p}_conv1`);
      y = applyTo(relu(`${p}_relu1`), applyTo(batchNorm(`${p}_bn1`), y));
      y = applyTo(batchNorm(`${p}_bn2`), conv(y, filters, 3, 1, `${p}_conv2`));
      let shortcut = x;
      if (stride !== 1 || channels !== filters) {
        shortcut = applyTo(
          batchNorm(`${p}_down_bn`),
          conv(x, filters, 1, stride, `${p}_down_conv`),
        );
      }
      x = applyTo(tfl.layers.add({ name: `${p}_add` }), [y, shortcut]);
      x = applyTo(relu(`${p}_relu2`), x);
      channels = filters;
    }
  });

  const last = dense === undefined && !normalize;
  x = applyTo(tfl.layers.globalAveragePooling2d({ name: last ? outputName : `${name}_pool` }), x);
  if (dense !== undefined) {
    x = applyTo(
      tfl.layers.dense({
        units: dense,
        kernelInitializer: init.glorot(),
        name: normalize ? `${name}_dense` : outputName,
      }),
      x,
    );
  }
  if (normalize) x = applyTo(new L2Normalize({ name: outputName }), x);
  const model = tfl.model({ inputs: input, outputs: x, name });
  return { model, embeddingDim: dense ?? channels, inputShape: shape };
}
