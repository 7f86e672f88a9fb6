import { resolveOptions } from '@ebmjs/contract';
import { EbmError } from '@ebmjs/core';
import { type DaeNoise, DenoisingAutoencoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import {
  datasetSize,
  type ImageDataset,
  imageBatch,
  imageSize,
  take,
} from '../datasets/dataset.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import { modelFingerprint } from './shared.js';

export interface TrainDAEConfig extends TrainConfig {
  /** Images, flattened to vectors in [0, 1]. */
  dataset: ImageDataset;
  /** Train this autoencoder (input: flattened images) instead of a new MLP one. */
  dae?: DenoisingAutoencoder;
  /** Encoder hidden widths of the new MLP autoencoder (the decoder mirrors them). Default [256]. */
  hiddenUnits?: number[];
  /** Code size. Default 32. */
  latentDim?: number;
  /** Corruption. Default { type: 'gaussian', std: 0.3 }. */
  noise?: DaeNoise;
  /**
   * Rows on which the clean reconstruction energy ‖r(x) − x‖² and the denoising loss (fixed
   * noise) are measured after every epoch (`metrics.reconstructionEnergy`,
   * `metrics.denoisingLoss`): a dataset, or false. Default: 500 training rows.
   */
  monitor?: ImageDataset | false;
}

export interface TrainDAEResult extends TrainResult {
  dae: DenoisingAutoencoder;
}

const MONITOR_SEED = 12345;

/** Flattened [n, h·w·c] images in [0, 1]. */
function flatBatch(ds: ImageDataset, indices: ArrayLike<number>): tf.Tensor2D {
  return tf.tidy(() => tf.reshape(imageBatch(ds, indices), [indices.length, imageSize(ds)]));
}

/**
 * Trains a denoising autoencoder (Vincent et al. 2008) on images, on the shared training loop
 * (optimizer configs, cosine schedule, callbacks, metrics.jsonl, checkpoints that resume
 * exactly). Its reconstruction error ‖r(x) − x‖² is the energy the lecture describes: low on
 * the data, growing away from it (`dae.energy`).
 */
export async function trainDAE(given: TrainDAEConfig): Promise<TrainDAEResult> {
  const where = 'trainDAE';
  const config = resolveOptions(where, given, {
    dataset: undefined,
    dae: undefined,
    hiddenUnits: [256],
    latentDim: 32,
    noise: { type: 'gaussian', std: 0.3 },
    monitor: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  const { dataset } = config;
  if (!dataset || !(dataset.pixels instanceof Uint8Array)) {
    throw new EbmError('INVALID_ARGUMENT', `${where}: dataset must be an ImageDataset.`);
  }
  const inputDim = imageSize(dataset);
  const { hiddenUnits, latentDim, noise } = config;
  if (config.dae !== undefined) {
    const expected = config.dae.encoder.inputs[0]!.shape.slice(1);
    if (expected.length !== 1 || expected[0] !== inputDim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${where}: the autoencoder takes [${expected.join(', ')}] inputs, the flattened images are [${inputDim}].`,
      );
    }
  }
  const dae =
    config.dae ??
    DenoisingAutoencoder.mlp({
      inputDim,
      hiddenUnits,
      latentDim,
      outputActivation: 'sigmoid',
      noise,
      seed: config.seed ?? 0,
      name: 'dae',
    });

  const monitorSet =
    config.monitor === false
      ? undefined
      : (config.monitor ?? take(dataset, Math.min(500, datasetSize(dataset))));
  const evaluate = async (epoch: number): Promise<Record<string, number>> => {
    const ours: Record<string, number> = {};
    if (monitorSet) {
      const x = flatBatch(
        monitorSet,
        Int32Array.from({ length: datasetSize(monitorSet) }, (_, i) => i),
      );
      try {
        const [energy, denoising] = tf.tidy(() => [
          tf.mean(dae.energy(x)).dataSync()[0]!,
          dae.loss(x, MONITOR_SEED).dataSync()[0]!,
        ]);
        ours['reconstructionEnergy'] = energy;
        ours['denoisingLoss'] = denoising;
      } finally {
        x.dispose();
      }
    }
    return { ...ours, ...((await config.evaluate?.(epoch)) ?? {}) };
  };

  try {
    const result = await runTrainingLoop({
      config: { ...config, evaluate },
      recipe: where,
      datasetSize: datasetSize(dataset),
      viewsPerImage: 1,
      trainable: () => dae.trainableVariables,
      loss: (indices, rng) => {
        const x = flatBatch(dataset, indices);
        try {
          // The corruption seed comes from the loop's stream, which checkpoints restore.
          return dae.loss(x, rng.seed());
        } finally {
          x.dispose();
        }
      },
      models: () => ({ encoder: dae.encoder, decoder: dae.decoder }),
      fingerprint: {
        recipe: where,
        inputDim,
        encoder: dae.encoder.name,
        parameters: dae.trainableVariables.reduce((s, v) => s + v.size, 0),
        noise: dae.noise,
        model: modelFingerprint(dae.encoder, dae.decoder),
        dataset: dataset.name,
        datasetSize: datasetSize(dataset),
      },
    });
    return { ...result, dae };
  } catch (error) {
    if (config.dae === undefined) dae.dispose();
    throw error;
  }
}
