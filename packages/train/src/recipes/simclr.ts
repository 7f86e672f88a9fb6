import { resolveOptions } from '@ebmjs/contract';
import { type Rng, untaped } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import { ntXent } from '@ebmjs/losses';
import { type Encoder, type Head, projectionHead } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import * as presets from '../augment/presets.js';
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
import {
  assertImageDataset,
  augmentationFingerprint,
  encoderFor,
  modelFingerprint,
  trainableVariables,
} from './shared.js';
import { twoViews } from './two-views.js';

export interface SimCLRConfig extends TrainConfig {
  dataset: ImageDataset;
  /** Default: `convEncoder` for the dataset's image shape. */
  encoder?: Encoder;
  /** Default: a 2-layer projection head with BatchNorm to `projectionDim`. */
  head?: Head;
  projectionDim?: number;
  /** NT-Xent temperature. Default 0.5. */
  temperature?: number;
  /** Default: `augment.presets.simclr` for the dataset's channels and size. */
  augmentation?: Augmentation;
  /** SwAV/DINO multi-crop views instead of two (see `MultiCropOptions`). Default: two views. */
  multiCrop?: MultiCropOptions;
}

export interface SimCLRResult extends TrainResult {
  encoder: Encoder;
  head: Head;
}

/**
 * SimCLR (Chen et al. 2020): two augmented views of every image go through the encoder and
 * the projection head, and NT-Xent pulls each pair together against the other 2N − 2 views.
 */
export async function trainSimCLR(given: SimCLRConfig): Promise<SimCLRResult> {
  const config = resolveOptions('trainSimCLR', given, {
    dataset: undefined,
    encoder: undefined,
    head: undefined,
    projectionDim: 128,
    temperature: 0.5,
    augmentation: undefined,
    multiCrop: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainSimCLR');
  const { dataset, temperature, projectionDim } = config;
  const seed = config.seed ?? 0;
  const encoder = encoderFor(dataset, config.encoder, seed, 'trainSimCLR');
  const head =
    config.head ??
    projectionHead({ inputDim: encoder.embeddingDim, outputDim: projectionDim, seed: seed + 1 });
  const [h, , c] = dataset.imageShape;
  const pipeline = config.augmentation ?? presets.simclr({ channels: c, size: h });
  const crop = multiCropFor(config.multiCrop, dataset, config.augmentation, encoder, 'trainSimCLR');
  const loss = ntXent({ temperature });
  const trainable = trainableVariables(encoder.model, head.model);

  const result = await runTrainingLoop({
    config,
    recipe: 'trainSimCLR',
    datasetSize: datasetSize(dataset),
    viewsPerImage: crop ? crop.global + crop.local : 2,
    trainable: () => trainable,
    loss: (indices: Int32Array, rng: Rng) => {
      if (crop) {
        // As the two-view step, the views of one size share a forward pass (and BatchNorm
        // statistics): the globals in one, the locals in another.
        const { global, local } = multiCropViews(dataset, indices, crop, rng);
        const z = [global, local]
          .filter((group) => group.length > 0)
          .flatMap((group) => {
            const features = encoder.model.apply(tf.concat(group, 0), { training: true });
            const out = head.model.apply(features as tf.Tensor, { training: true }) as tf.Tensor2D;
            return tf.split(out, group.length, 0) as tf.Tensor2D[];
          });
        return multiCropLoss(crop.global, z.length, (g, v) => loss(z[g]!, z[v]!));
      }
      const pair = twoViews(dataset, indices, pipeline, rng);
      const views = untaped(() => tf.concat(pair, 0));
      tf.dispose(pair);
      const features = encoder.model.apply(views, { training: true }) as tf.Tensor;
      const z = head.model.apply(features, { training: true }) as tf.Tensor2D;
      const [z1, z2] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      return loss(z1, z2);
    },
    compile: (ctx) => {
      assertTwoViews(crop, 'trainSimCLR');
      const build = (optimizer: experimental.OptimizerSpec) =>
        experimental.buildSimclrStep(encoder.model, head.model, {
          batchSize: ctx.batchSize,
          temperature,
          optimizer,
          viewLayout: 'NHWC',
        });
      return compileTwoViewStep({ dataset, pipeline, build }, ctx);
    },
    models: () => ({ encoder: encoder.model, head: head.model }),
    fingerprint: {
      recipe: 'simclr',
      temperature,
      projectionDim,
      batchSize: config.batchSize ?? 256,
      epochs: config.epochs ?? 1,
      seed,
      dataset: dataset.name,
      model: modelFingerprint(encoder.model, head.model),
      augmentation: augmentationFingerprint(config.augmentation, 'simclr'),
      ...(crop ? { multiCrop: crop.fingerprint } : {}),
    },
  });
  return { ...result, encoder, head };
}
