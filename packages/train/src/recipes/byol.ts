import { resolveOptions } from '@ebmjs/contract';
import { type Rng, untaped } from '@ebmjs/core';
import { negativeCosine } from '@ebmjs/losses';
import {
  type Encoder,
  type Head,
  MomentumEncoder,
  predictionHead,
  projectionHead,
} from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import * as presets from '../augment/presets.js';
import { datasetSize, type ImageDataset } from '../datasets/dataset.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import {
  assertImageDataset,
  augmentationFingerprint,
  encoderFor,
  modelFingerprint,
  trainableVariables,
} from './shared.js';
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
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainBYOL');
  const { dataset, projectionDim, hiddenDim, predictorHiddenDim, momentum } = config;
  const seed = config.seed ?? 0;
  const encoder = encoderFor(dataset, config.encoder, seed, 'trainBYOL');
  const projector =
    config.projector ??
    projectionHead({
      inputDim: encoder.embeddingDim,
      hiddenDim,
      outputDim: projectionDim,
      seed: seed + 1,
      name: 'projector',
    });
  const predictor =
    config.predictor ??
    predictionHead({
      inputDim: projector.outputDim,
      hiddenDim: predictorHiddenDim,
      seed: seed + 2,
      name: 'predictor',
    });
  const [h, , c] = dataset.imageShape;
  const pipeline = config.augmentation ?? presets.simclr({ channels: c, size: h });
  // The constructor checks the momentum; each update passes the scheduled value.
  const target = new MomentumEncoder([encoder.model, projector.model], { momentum });
  const d = negativeCosine();
  const trainable = trainableVariables(encoder.model, projector.model, predictor.model);
  const online = (x: tf.Tensor) => {
    const y = encoder.model.apply(x, { training: true }) as tf.Tensor;
    const z = projector.model.apply(y, { training: true }) as tf.Tensor;
    return predictor.model.apply(z, { training: true }) as tf.Tensor2D;
  };

  const result = await runTrainingLoop({
    config,
    recipe: 'trainBYOL',
    datasetSize: datasetSize(dataset),
    viewsPerImage: 2,
    trainable: () => trainable,
    loss: (indices: Int32Array, rng: Rng) => {
      const [x1, x2] = twoViews(dataset, indices, pipeline, rng);
      const t1 = untaped(() => target.applyTraining(x1)) as tf.Tensor2D;
      const t2 = untaped(() => target.applyTraining(x2)) as tf.Tensor2D;
      return tf.mul(tf.add(d(online(x1), t2), d(online(x2), t1)), 0.5) as tf.Scalar;
    },
    afterStep: (_, { step, totalSteps }) => {
      target.update(cosineMomentum(momentum, step, totalSteps));
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
    },
  });
  return { ...result, encoder, projector, predictor, target };
}
