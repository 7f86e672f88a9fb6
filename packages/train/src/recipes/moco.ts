import { ops, type Rng, untaped } from '@ebmjs/core';
import { infoNCE } from '@ebmjs/losses';
import {
  type Encoder,
  type Head,
  MomentumEncoder,
  NegativeQueue,
  projectionHead,
} from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import * as presets from '../augment/presets.js';
import { datasetSize, type ImageDataset, imageBatch } from '../datasets/dataset.js';
import type { TrainConfig, TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import {
  assertImageDataset,
  augmentationFingerprint,
  encoderFor,
  modelFingerprint,
  trainableVariables,
} from './shared.js';

export interface MoCoConfig extends TrainConfig {
  dataset: ImageDataset;
  encoder?: Encoder;
  head?: Head;
  projectionDim?: number;
  /** InfoNCE temperature. MoCo v2: 0.2. */
  temperature?: number;
  /** Keys in the queue (MoCo: 65536). Default min(4096, dataset size). */
  queueSize?: number;
  /** Key-encoder momentum m. MoCo: 0.999; default 0.99 for the short runs of small datasets. */
  momentum?: number;
  augmentation?: Augmentation;
}

export interface MoCoResult extends TrainResult {
  encoder: Encoder;
  head: Head;
  keyEncoder: MomentumEncoder;
  queue: NegativeQueue;
}

/**
 * MoCo v2 (Chen et al. 2020): queries from the online encoder and head, keys from their
 * momentum copy, and InfoNCE against a FIFO queue of past keys, so the number of negatives is
 * decoupled from the batch size. After each step the key encoder follows θ_k ← mθ_k + (1−m)θ_q
 * and the batch's keys are enqueued.
 */
export async function trainMoCo(config: MoCoConfig): Promise<MoCoResult> {
  assertImageDataset(config.dataset, 'trainMoCo');
  const { dataset, temperature = 0.2, projectionDim = 128, momentum = 0.99, seed = 0 } = config;
  const queueSize = config.queueSize ?? Math.min(4096, datasetSize(dataset));
  const encoder = encoderFor(dataset, config.encoder, seed, 'trainMoCo');
  const head =
    config.head ??
    projectionHead({ inputDim: encoder.embeddingDim, outputDim: projectionDim, seed: seed + 1 });
  const [h, , c] = dataset.imageShape;
  const pipeline = config.augmentation ?? presets.mocoV2({ channels: c, size: h });
  const keyEncoder = new MomentumEncoder([encoder.model, head.model], { momentum });
  let queue = new NegativeQueue({ size: queueSize, dim: head.outputDim, seed: seed + 2 });
  const loss = infoNCE({ temperature, inBatchNegatives: false });
  const trainable = trainableVariables(encoder.model, head.model);
  let pendingKeys: tf.Tensor | undefined;

  try {
    const result = await runTrainingLoop({
      config,
      recipe: 'trainMoCo',
      datasetSize: datasetSize(dataset),
      viewsPerImage: 2,
      trainable: () => trainable,
      loss: (indices: Int32Array, rng: Rng) => {
        const [x1, x2] = untaped(() =>
          tf.tidy(() => {
            const x = imageBatch(dataset, indices);
            return [pipeline(x, rng), pipeline(x, rng)];
          }),
        );
        // Keys: no gradient, normalised, kept past the step to be enqueued afterwards.
        const keys = untaped(() => tf.tidy(() => ops.l2Normalize(keyEncoder.apply(x2!, true), 1)));
        pendingKeys?.dispose();
        pendingKeys = tf.keep(keys);
        const q = head.model.apply(encoder.model.apply(x1!, { training: true }), {
          training: true,
        }) as tf.Tensor2D;
        return loss(q, keys, queue.keys());
      },
      afterStep: () => {
        keyEncoder.update();
        if (pendingKeys) queue.enqueue(pendingKeys);
        pendingKeys?.dispose();
        pendingKeys = undefined;
      },
      models: () => ({
        encoder: encoder.model,
        head: head.model,
        key_encoder: keyEncoder.targets[0]!,
        key_head: keyEncoder.targets[1]!,
      }),
      extras: () => ({ queue }),
      restoreExtras: async (dirOf) => {
        const loaded = await NegativeQueue.load(dirOf('queue'));
        queue.dispose();
        queue = loaded;
      },
      fingerprint: {
        recipe: 'moco',
        temperature,
        projectionDim,
        momentum,
        queueSize,
        batchSize: config.batchSize ?? 256,
        epochs: config.epochs ?? 1,
        seed,
        dataset: dataset.name,
        model: modelFingerprint(encoder.model, head.model),
        augmentation: augmentationFingerprint(config.augmentation, 'mocoV2'),
      },
    });
    return { ...result, encoder, head, keyEncoder, queue };
  } finally {
    pendingKeys?.dispose();
  }
}
