import { resolveOptions } from '@ebmjs/contract';
import type { Rng } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import { negativeCosine } from '@ebmjs/losses';
import type { Encoder, Head } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import { datasetSize, type ImageDataset } from '../datasets/dataset.js';
import { assertTwoViews, compileTwoViewStep } from '../engine/two-view-step.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import {
  type MultiCropOptions,
  multiCropFor,
  multiCropLoss,
  multiCropViews,
} from './multi-crop.js';
import { assertImageDataset, augmentationFingerprint, modelFingerprint } from './shared.js';
import { predictorNetworks } from './two-view-networks.js';
import { twoViews } from './two-views.js';

export interface SimSiamConfig extends TrainConfig {
  dataset: ImageDataset;
  /** Default: `convEncoder` for the dataset's image shape. */
  encoder?: Encoder;
  /** Default: Dense(hiddenDim)-BN-ReLU-Dense(projectionDim). */
  projector?: Head;
  /** Default: `predictionHead` projectionDim → predictorHiddenDim → projectionDim. */
  predictor?: Head;
  /** Projection size. SimSiam: 2048; default 256. */
  projectionDim?: number;
  /** Projector's hidden width. SimSiam: 2048; default 256. */
  hiddenDim?: number;
  /** Predictor's bottleneck width. SimSiam: 512 (a quarter of the projection); default 64. */
  predictorHiddenDim?: number;
  /** Default: `augment.presets.simclr` for the dataset's channels and size. */
  augmentation?: Augmentation;
  /** SwAV/DINO multi-crop views instead of two (see `MultiCropOptions`). Default: two views. */
  multiCrop?: MultiCropOptions;
}

export interface SimSiamResult extends TrainResult {
  encoder: Encoder;
  projector: Head;
  predictor: Head;
}

/**
 * SimSiam (Chen & He 2021): one encoder and projector for both views, a predictor on the
 * online side, and the symmetrised ½ D(p1, stopgrad(z2)) + ½ D(p2, stopgrad(z1)) with
 * D = −cos (`negativeCosine`, whose second argument gets no gradient). The stop-gradient, not a
 * momentum target, is what keeps it from collapsing; each view goes through the networks on its
 * own, so BatchNorm normalises each view's batch, as the reference does.
 */
export async function trainSimSiam(given: SimSiamConfig): Promise<SimSiamResult> {
  const config = resolveOptions('trainSimSiam', given, {
    dataset: undefined,
    encoder: undefined,
    projector: undefined,
    predictor: undefined,
    projectionDim: 256,
    hiddenDim: 256,
    predictorHiddenDim: 64,
    augmentation: undefined,
    multiCrop: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainSimSiam');
  const { dataset, projectionDim, hiddenDim, predictorHiddenDim } = config;
  const seed = config.seed ?? 0;
  const net = predictorNetworks(config, 'trainSimSiam', {
    projectionDim,
    hiddenDim,
    predictorHiddenDim,
  });
  const { encoder, projector, predictor, pipeline, project, predict } = net;
  const crop = multiCropFor(
    config.multiCrop,
    dataset,
    config.augmentation,
    encoder,
    'trainSimSiam',
  );
  const d = negativeCosine();

  const result = await runTrainingLoop({
    config,
    recipe: 'trainSimSiam',
    datasetSize: datasetSize(dataset),
    viewsPerImage: crop ? crop.global + crop.local : 2,
    trainable: () => net.trainable,
    loss: (indices: Int32Array, rng: Rng) => {
      if (crop) {
        // Each view predicts every other's projection; only global projections are targets.
        const { global, local } = multiCropViews(dataset, indices, crop, rng);
        const z = [...global, ...local].map(project);
        const p = z.map(predict);
        return multiCropLoss(crop.global, z.length, (g, v) => d(p[v]!, z[g]!));
      }
      const [x1, x2] = twoViews(dataset, indices, pipeline, rng);
      const z1 = project(x1);
      const z2 = project(x2);
      return tf.mul(tf.add(d(predict(z1), z2), d(predict(z2), z1)), 0.5) as tf.Scalar;
    },
    compile: (ctx) => {
      assertTwoViews(crop, 'trainSimSiam');
      const build = (optimizer: experimental.OptimizerSpec) =>
        experimental.buildPredictorStep(encoder.model, projector.model, predictor.model, {
          batchSize: ctx.batchSize,
          optimizer,
          viewLayout: 'NHWC',
        });
      return compileTwoViewStep({ dataset, pipeline, build }, ctx);
    },
    models: () => ({
      encoder: encoder.model,
      projector: projector.model,
      predictor: predictor.model,
    }),
    fingerprint: {
      recipe: 'simsiam',
      projectionDim,
      hiddenDim,
      predictorHiddenDim,
      batchSize: config.batchSize ?? 256,
      epochs: config.epochs ?? 1,
      seed,
      dataset: dataset.name,
      model: modelFingerprint(encoder.model, projector.model, predictor.model),
      augmentation: augmentationFingerprint(config.augmentation, 'simclr'),
      ...(crop ? { multiCrop: crop.fingerprint } : {}),
    },
  });
  return { ...result, encoder, projector, predictor };
}
