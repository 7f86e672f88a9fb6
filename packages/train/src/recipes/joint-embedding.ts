import type { Rng } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import type { TwoViewLoss } from '@ebmjs/losses';
import type { Encoder, Head } from '@ebmjs/models';
import type { Augmentation } from '../augment/augmentation.js';
import { datasetSize, type ImageDataset } from '../datasets/dataset.js';
import { assertTwoViews, compileTwoViewStep } from '../engine/two-view-step.js';
import type { TrainConfig, TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import {
  type MultiCropOptions,
  multiCropFor,
  multiCropLoss,
  multiCropViews,
} from './multi-crop.js';
import { augmentationFingerprint, modelFingerprint, trainableVariables } from './shared.js';
import { projectedEncoder } from './two-view-networks.js';
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
    multiCrop?: MultiCropOptions;
  };
  projectionDim: number;
  hiddenDim: number;
  /** Dense layers of the default projector. */
  depth: number;
  loss: TwoViewLoss;
  /** The loss's settings, for the resume fingerprint. */
  settings: Record<string, unknown>;
  /** The same loss for the compiled step (engine 'onnxruntime'). */
  graphLoss: experimental.JointEmbeddingLoss;
}

/**
 * Trains encoder + projector ("expander") on a loss of the two views' projections, each view
 * through the networks on its own (BatchNorm normalises each view's batch, as both references);
 * with `multiCrop`, the loss is averaged over `multiCropPairs` as loss(z_g, z_v).
 */
export async function trainJointEmbedding(
  spec: JointEmbeddingSpec,
): Promise<TrainResult & { encoder: Encoder; projector: Head }> {
  const { config, projectionDim, hiddenDim, depth, recipe } = spec;
  const { dataset } = config;
  const seed = config.seed ?? 0;
  const { encoder, projector, pipeline, project } = projectedEncoder(config, recipe, {
    projectionDim,
    hiddenDim,
    depth,
  });
  const crop = multiCropFor(config.multiCrop, dataset, config.augmentation, encoder, recipe);
  const trainable = trainableVariables(encoder.model, projector.model);

  const result = await runTrainingLoop({
    config,
    recipe,
    datasetSize: datasetSize(dataset),
    viewsPerImage: crop ? crop.global + crop.local : 2,
    trainable: () => trainable,
    loss: (indices: Int32Array, rng: Rng) => {
      if (crop) {
        const { global, local } = multiCropViews(dataset, indices, crop, rng);
        const z = [...global, ...local].map(project);
        return multiCropLoss(crop.global, z.length, (g, v) => spec.loss(z[g]!, z[v]!));
      }
      const [x1, x2] = twoViews(dataset, indices, pipeline, rng);
      return spec.loss(project(x1), project(x2));
    },
    compile: (ctx) => {
      assertTwoViews(crop, recipe);
      const build = (optimizer: experimental.OptimizerSpec) =>
        experimental.buildJointEmbeddingStep(encoder.model, projector.model, {
          batchSize: ctx.batchSize,
          loss: spec.graphLoss,
          optimizer,
          viewLayout: 'NHWC',
        });
      return compileTwoViewStep({ dataset, pipeline, build }, ctx);
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
      ...(crop ? { multiCrop: crop.fingerprint } : {}),
    },
  });
  return { ...result, encoder, projector };
}
