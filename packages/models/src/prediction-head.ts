import { resolveOptions } from '@ebmjs/contract';
import { layerName, positiveInt, seed } from './checks.js';
import type { Head } from './encoder.js';
import { projectionHead } from './projection-head.js';

export interface PredictionHeadOptions {
  /** Size of the projection it sits on. */
  inputDim: number;
  /**
   * Width of the hidden layer. Default inputDim. BYOL widens it (256 → 4096 → 256), SimSiam
   * makes it a bottleneck (2048 → 512 → 2048).
   */
  hiddenDim?: number;
  /** Size of the prediction; it is compared with the target's projection. Default inputDim. */
  outputDim?: number;
  /** Default 0. */
  seed?: number;
  /** Model name and layer-name prefix. Default 'prediction_head'. */
  name?: string;
  /** Default 'projection'. */
  inputName?: string;
  /** Default 'prediction'. */
  outputName?: string;
}

/**
 * The predictor q(·) of BYOL (Grill et al. 2020) and SimSiam (Chen & He 2021):
 * Dense(hiddenDim, no bias) → BatchNorm → ReLU → Dense(outputDim), as both papers build it
 * (no BatchNorm or ReLU on the output). It maps the online branch's projection onto a
 * prediction of the other view's target projection; only the online branch has one, which is
 * what keeps these methods from collapsing without negatives.
 */
export function predictionHead(options: PredictionHeadOptions): Head {
  const where = 'predictionHead';
  const o = resolveOptions(where, options, {
    inputDim: undefined,
    hiddenDim: undefined,
    outputDim: undefined,
    seed: 0,
    name: 'prediction_head',
    inputName: 'projection',
    outputName: 'prediction',
  });
  const inputDim = positiveInt(o.inputDim, `${where}: inputDim`);
  // Checked here so that a bad value is named after this builder, not projectionHead.
  return projectionHead({
    inputDim,
    hiddenDim: positiveInt(o.hiddenDim ?? inputDim, `${where}: hiddenDim`),
    outputDim: positiveInt(o.outputDim ?? inputDim, `${where}: outputDim`),
    depth: 2,
    batchNorm: true,
    seed: seed(o.seed, `${where}: seed`),
    name: layerName(o.name, `${where}: name`),
    inputName: layerName(o.inputName, `${where}: inputName`),
    outputName: layerName(o.outputName, `${where}: outputName`),
  });
}
