import { type Encoder, type Head, predictionHead, projectionHead } from '@ebmjs/models';
import type * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import * as presets from '../augment/presets.js';
import type { ImageDataset } from '../datasets/dataset.js';
import { encoderFor, trainableVariables } from './shared.js';

/** The options the two-view recipes share for their networks. */
export interface TwoViewNetworksConfig {
  dataset: ImageDataset;
  encoder?: Encoder;
  projector?: Head;
  augmentation?: Augmentation;
  seed?: number;
}

/** Encoder → projector, as VICReg's and Barlow Twins' networks. */
export interface ProjectedEncoder {
  encoder: Encoder;
  projector: Head;
  /** The two-view pipeline: the caller's augmentation or `presets.simclr`. */
  pipeline: Augmentation;
  /** projector(encoder(x)), in training mode. */
  project: (x: tf.Tensor) => tf.Tensor2D;
}

/**
 * The encoder (the caller's or the default ConvNet, seed) and a projector of `depth` Dense
 * layers with BN-ReLU between (seed + 1; the caller's when given), and the view pipeline.
 */
export function projectedEncoder(
  config: TwoViewNetworksConfig,
  recipe: string,
  dims: { projectionDim: number; hiddenDim: number; depth?: number },
): ProjectedEncoder {
  const { dataset } = config;
  const seed = config.seed ?? 0;
  const encoder = encoderFor(dataset, config.encoder, seed, recipe);
  const projector =
    config.projector ??
    projectionHead({
      inputDim: encoder.embeddingDim,
      hiddenDim: dims.hiddenDim,
      outputDim: dims.projectionDim,
      ...(dims.depth !== undefined ? { depth: dims.depth } : {}),
      seed: seed + 1,
      name: 'projector',
    });
  const [h, , c] = dataset.imageShape;
  return {
    encoder,
    projector,
    pipeline: config.augmentation ?? presets.simclr({ channels: c, size: h }),
    project: (x) =>
      projector.model.apply(encoder.model.apply(x, { training: true }), {
        training: true,
      }) as tf.Tensor2D,
  };
}

/** Encoder → projector → predictor, as BYOL's online branch and SimSiam's network. */
export interface PredictorNetworks extends ProjectedEncoder {
  predictor: Head;
  trainable: tf.Variable[];
  /** predictor(z), in training mode. */
  predict: (z: tf.Tensor) => tf.Tensor2D;
}

/**
 * The networks of BYOL and SimSiam (the same shapes, their own widths): `projectedEncoder` with
 * a Dense-BN-ReLU-Dense projector, then a `predictionHead` bottleneck (seed + 2; the caller's
 * when given).
 */
export function predictorNetworks(
  config: TwoViewNetworksConfig & { predictor?: Head },
  recipe: string,
  dims: { projectionDim: number; hiddenDim: number; predictorHiddenDim: number },
): PredictorNetworks {
  const base = projectedEncoder(config, recipe, dims);
  const { encoder, projector } = base;
  const predictor =
    config.predictor ??
    predictionHead({
      inputDim: projector.outputDim,
      hiddenDim: dims.predictorHiddenDim,
      seed: (config.seed ?? 0) + 2,
      name: 'predictor',
    });
  return {
    ...base,
    predictor,
    trainable: trainableVariables(encoder.model, projector.model, predictor.model),
    predict: (z) => predictor.model.apply(z, { training: true }) as tf.Tensor2D,
  };
}
