import { resolveOptions } from '@ebmjs/contract';
import { type Rng, untaped } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import { negativeCosine } from '@ebmjs/losses';
import { type Encoder, type Head, MomentumEncoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Augmentation } from '../augment/augmentation.js';
import { datasetSize, type ImageDataset } from '../datasets/dataset.js';
import type { StepProgress } from '../engine/compiled-step.js';
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
import { cosineMomentum, twoViews } from './two-views.js';

export interface BYOLConfig extends TrainConfig {
  dataset: ImageDataset;
  /** Default: `convEncoder` for the dataset's image shape. */
  encoder?: Encoder;
  /** Default: Dense(hiddenDim)-BN-ReLU-Dense(projectionDim), BYOL's projector. */
  projector?: Head;
  /** Default: `predictionHead` projectionDim → predictorHiddenDim → projectionDim. */
  predictor?: Head;
  /** Projection size. BYOL: 256; default 128. */
  projectionDim?: number;
  /** Projector's hidden width. BYOL: 4096; default 512. */
  hiddenDim?: number;
  /** Predictor's hidden width. BYOL: 4096; default 512. */
  predictorHiddenDim?: number;
  /**
   * Base target momentum τ_base of the cosine schedule τ_k = 1 − (1 − τ_base)(cos(πk/K) + 1)/2,
   * which reaches 1 at the end of the plan. BYOL: 0.996; default 0.99 (solo-learn's and lightly's
   * CIFAR setting: the target must move within runs of a few thousand steps).
   */
  momentum?: number;
  /** Default: `augment.presets.simclr` for the dataset's channels and size. */
  augmentation?: Augmentation;
  /** SwAV/DINO multi-crop views instead of two (see `MultiCropOptions`). Default: two views. */
  multiCrop?: MultiCropOptions;
}

export interface BYOLResult extends TrainResult {
  encoder: Encoder;
  projector: Head;
  predictor: Head;
  /** The EMA target of [encoder, projector]. */
  target: MomentumEncoder;
}

/**
 * BYOL (Grill et al. 2020): the online encoder, projector and predictor predict the other
 * view's projection by the target network, an EMA of the online encoder and projector, with
 * the symmetrised ½ D(p1, z'2) + ½ D(p2, z'1), D = −cos (`negativeCosine`: BYOL's 2 − 2cos up
 * to an affine map, so the same minimiser; the target gets no gradient). After each step the
 * target follows τ_k of BYOL's cosine schedule over the loop's plan (the fitted one under a time
 * budget); the momentum is a function of the step and the plan, so a resume replays it exactly,
 * and the target's weights are in the checkpoint. The target runs in training mode (BatchNorm
 * with batch statistics, as BYOL's) without writing its moving statistics: those are the EMA of
 * the online ones (see `MomentumEncoder.applyTraining`).
 */
export async function trainBYOL(given: BYOLConfig): Promise<BYOLResult> {
  const config = resolveOptions('trainBYOL', given, {
    dataset: undefined,
    encoder: undefined,
    projector: undefined,
    predictor: undefined,
    projectionDim: 128,
    hiddenDim: 512,
    predictorHiddenDim: 512,
    momentum: 0.99,
    augmentation: undefined,
    multiCrop: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainBYOL');
  const { dataset, projectionDim, hiddenDim, predictorHiddenDim, momentum } = config;
  const seed = config.seed ?? 0;
  const net = predictorNetworks(config, 'trainBYOL', {
    projectionDim,
    hiddenDim,
    predictorHiddenDim,
  });
  const { encoder, projector, predictor, pipeline } = net;
  const crop = multiCropFor(config.multiCrop, dataset, config.augmentation, encoder, 'trainBYOL');
  // The constructor checks the momentum; each update passes the scheduled value.
  const target = new MomentumEncoder([encoder.model, projector.model], { momentum });
  const d = negativeCosine();
  const online = (x: tf.Tensor) => net.predict(net.project(x));

  const result = await runTrainingLoop({
    config,
    recipe: 'trainBYOL',
    datasetSize: datasetSize(dataset),
    viewsPerImage: crop ? crop.global + crop.local : 2,
    trainable: () => net.trainable,
    loss: (indices: Int32Array, rng: Rng) => {
      if (crop) {
        // The target sees the global views only; the online network predicts it from every view.
        const { global, local } = multiCropViews(dataset, indices, crop, rng);
        const views = [...global, ...local];
        const targets = global.map((x) => untaped(() => target.applyTraining(x)) as tf.Tensor2D);
        const predictions = views.map(online);
        return multiCropLoss(crop.global, views.length, (g, v) => d(predictions[v]!, targets[g]!));
      }
      const [x1, x2] = twoViews(dataset, indices, pipeline, rng);
      const t1 = untaped(() => target.applyTraining(x1)) as tf.Tensor2D;
      const t2 = untaped(() => target.applyTraining(x2)) as tf.Tensor2D;
      return tf.mul(tf.add(d(online(x1), t2), d(online(x2), t1)), 0.5) as tf.Scalar;
    },
    afterStep: (_, { step, totalSteps }) => {
      target.update(cosineMomentum(momentum, step, totalSteps));
    },
    compile: (ctx) => {
      assertTwoViews(crop, 'trainBYOL');
      const [targetEncoder, targetProjector] = target.targets as [LayersModel, LayersModel];
      const build = (optimizer: experimental.OptimizerSpec) =>
        experimental.buildPredictorStep(encoder.model, projector.model, predictor.model, {
          batchSize: ctx.batchSize,
          target: { encoder: targetEncoder, projector: targetProjector },
          optimizer,
          viewLayout: 'NHWC',
        });
      const schedule = ({ step, totalSteps }: StepProgress) =>
        cosineMomentum(momentum, step, totalSteps);
      return compileTwoViewStep(
        { dataset, pipeline, build, target: { encoder: target, momentum: schedule } },
        ctx,
      );
    },
    models: () => ({
      encoder: encoder.model,
      projector: projector.model,
      predictor: predictor.model,
      target_encoder: target.targets[0]!,
      target_projector: target.targets[1]!,
    }),
    fingerprint: {
      recipe: 'byol',
      projectionDim,
      hiddenDim,
      predictorHiddenDim,
      momentum,
      momentumSchedule: 'cosine',
      batchSize: config.batchSize ?? 256,
      epochs: config.epochs ?? 1,
      seed,
      dataset: dataset.name,
      model: modelFingerprint(encoder.model, projector.model, predictor.model),
      augmentation: augmentationFingerprint(config.augmentation, 'simclr'),
      ...(crop ? { multiCrop: crop.fingerprint } : {}),
    },
  });
  return { ...result, encoder, projector, predictor, target };
}
