import { resolveOptions } from '@ebmjs/contract';
import * as tfl from '@tensorflow/tfjs-layers';
import { bool, layerName, positiveInt, seed } from './checks.js';
import type { Head } from './encoder.js';
import { SeededInitializers } from './initializers.js';
import { L2Normalize } from './l2-normalize-layer.js';
import { applyTo, batchNorm, relu } from './layer-helpers.js';

export interface ProjectionHeadOptions {
  /** Size of the encoder output it sits on. */
  inputDim: number;
  /** Width of the hidden layers. Default: inputDim (as SimCLR). */
  hiddenDim?: number;
  /** Size of the projection the loss sees. Default 128. */
  outputDim?: number;
  /** Number of Dense layers (1 = linear head). Default 2. */
  depth?: number;
  /** BatchNormalization after each hidden Dense. Default true. */
  batchNorm?: boolean;
  /** L2-normalise the output (custom layer `L2Normalize`). Default false: the losses normalise. */
  l2Normalize?: boolean;
  /** Default 0. */
  seed?: number;
  /** Model name and layer-name prefix. Default 'projection_head'. */
  name?: string;
  /** Default 'features'. */
  inputName?: string;
  /** Default 'projection'. */
  outputName?: string;
}

/**
 * SimCLR's projection head g(·): (Dense → [BN] → ReLU) × (depth − 1) → Dense(outputDim)
 * [→ L2Normalize]. The contrastive loss is computed on its output, the downstream
 * representation is the encoder's output before it.
 */
export function projectionHead(options: ProjectionHeadOptions): Head {
  const where = 'projectionHead';
  const o = resolveOptions(where, options, {
    inputDim: undefined,
    hiddenDim: undefined,
    outputDim: 128,
    depth: 2,
    batchNorm: true,
    l2Normalize: false,
    seed: 0,
    name: 'projection_head',
    inputName: 'features',
    outputName: 'projection',
  });
  const inputDim = positiveInt(o.inputDim, `${where}: inputDim`);
  const hiddenDim = positiveInt(o.hiddenDim ?? inputDim, `${where}: hiddenDim`);
  const outputDim = positiveInt(o.outputDim, `${where}: outputDim`);
  const depth = positiveInt(o.depth, `${where}: depth`);
  const useBn = bool(o.batchNorm, `${where}: batchNorm`);
  const normalize = bool(o.l2Normalize, `${where}: l2Normalize`);
  const init = new SeededInitializers(seed(o.seed, `${where}: seed`));
  const name = layerName(o.name, `${where}: name`);
  const inputName = layerName(o.inputName, `${where}: inputName`);
  const outputName = layerName(o.outputName, `${where}: outputName`);

  const input = tfl.input({ shape: [inputDim], name: inputName });
  let x = input;
  for (let i = 1; i < depth; i++) {
    const p = `${name}_dense${i}`;
    x = applyTo(
      tfl.layers.dense({
        units: hiddenDim,
        useBias: !useBn,
        kernelInitializer: init.he(),
        name: p,
      }),
      x,
    );
    if (useBn) x = applyTo(batchNorm(`${p}_bn`), x);
    x = applyTo(relu(`${p}_relu`), x);
  }
  x = applyTo(
    tfl.layers.dense({
      units: outputDim,
      kernelInitializer: init.glorot(),
      name: normalize ? `${name}_out` : outputName,
    }),
    x,
  );
  if (normalize) x = applyTo(new L2Normalize({ name: outputName }), x);
  return { model: tfl.model({ inputs: input, outputs: x, name }), inputDim, outputDim };
}
