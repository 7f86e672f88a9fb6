import type { Rng } from '@ebmjs/core';
import type { TwoViewLoss } from '@ebmjs/losses';
import { type Encoder, type Head, projectionHead } from '@ebmjs/models';
import type * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import * as presets from '../augment/presets.js';
import { datasetSize, type ImageDataset } from '../datasets/dataset.js';
import type { TrainConfig, TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import {
  augmentationFingerprint,
  encoderFor,
  modelFingerprint,
  trainableVariables,
} from './shared.js';
import { twoViews } from './two-views.js';

/** What VICReg and Barlow Twins share: two views, one encoder and projector, a loss of (z1, z2). */
export interface JointEmbeddingSpec {
  recipe: string;
  /** The fingerprint's recipe name. */
  tag: string;
  config: TrainConfig & {
    dataset: ImageDataset;
    encoder?: Encoder;
    projector?: Head;
    augmentation?: Augmentation;
  };
  projectionDim: number;
  hiddenDim: number;
  /** Dense layers of the default projector. */
  depth: number;
  loss: TwoViewLoss;
  /** The loss's settings, for the resume fingerprint. */
  settings: Record<string, unknown>;
}

/**
 * Trains encoder + projector ("expander") on a loss of the two views' projections, each view
 * through the networks on its own (BatchNorm normalises each view's batch, as both references).
 */
export async function trainJointEmbedding(
  spec: JointEmbeddingSpec,
): Promise<TrainResult & { encoder: Encoder; projector: Head }> {
  const { config, projectionDim, hiddenDim, depth, recipe } = spec;
  const { dataset } = config;
  const seed = config.seed ?? 0;
  const encoder = encoderFor(dataset, config.encoder, seed, recipe);
  const projector =
    config.projector ??
    projectionHead({
      inputDim: encoder.embeddingDim,
      hiddenDim,
      outputDim: projectionDim,
      depth,
      seed: seed + 1,
      name: 'projector',
    });
  const [h, , c] = dataset.imageShape;
  const pipeline = config.augmentation ?? presets.simclr({ channels: c, size: h });
  const trainable = trainableVariables(encoder.model, projector.model);
  const project = (x: tf.Tensor) =>
    projector.model.apply(encoder.model.apply(x, { training: true }), {
      training: true,
    }) as tf.Tensor2D;

  const result = await runTrainingLoop({
    config,
    recipe,
    datasetSize: datasetSize(dataset),
    viewsPerImage: 2,
    trainable: () => trainable,
    loss: (indices: Int32Array, rng: Rng) => {
      const [x1, x2] = twoViews(dataset, indices, pipeline, rng);
      return spec.loss(project(x1), project(x2));
    },
    models: () => ({ encoder: encoder.model, projector: projector.model }),
    fingerprint: {
      recipe: spec.tag,
      ...spec.settings,
      projectionDim,
      hiddenDim,
      batchSize: config.batchSize ?? 256,
      epochs: config.epochs ?? 1,
      seed,
      dataset: dataset.name,
      model: modelFingerprint(encoder.model, projector.model),
      augmentation: augmentationFingerprint(config.augmentation, 'simclr'),
    },
  });
  return { ...result, encoder, projector };
}
