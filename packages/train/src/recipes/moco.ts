import { resolveOptions } from '@ebmjs/contract';
import { EbmError, ops, type Rng, untaped, validate } from '@ebmjs/core';
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
import { compileMocoStep } from '../engine/moco-step.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
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
  /**
   * Shuffle BN groups G (He et al. 2020 §3.3, emulated on one device): each step the key batch
   * is permuted with the run's rng, cut into G groups whose BatchNorm statistics are computed
   * apart, and the keys are permuted back. 1 turns it off. Default 2, or 1 for batches under 4
   * (each group needs 2 rows).
   */
  shuffleBnGroups?: number;
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
 *
 * Keys use Shuffle BN (`shuffleBnGroups`). The key encoder runs in training mode (BatchNorm
 * with each group's batch statistics) but its forward does not touch its moving mean/variance:
 * those are written once per step, by the momentum update, as μ_k ← m·μ_k + (1−m)·μ_q of the
 * query encoder's moving statistics after the step (see `MomentumEncoder.applyTraining`). One
 * rule for parameters and statistics keeps the key encoder in inference mode the EMA of the
 * query model; the statistics of its own 1/G-size groups would be noisier and, mixed with the
 * EMA, were the double write this replaces. (The MoCo reference updates only parameters by
 * momentum and lets the key forward write the buffers; either is one write, this one is exact
 * for any G.)
 */
export async function trainMoCo(given: MoCoConfig): Promise<MoCoResult> {
  const config = resolveOptions('trainMoCo', given, {
    dataset: undefined,
    encoder: undefined,
    head: undefined,
    projectionDim: 128,
    temperature: 0.2,
    queueSize: undefined,
    momentum: 0.99,
    augmentation: undefined,
    shuffleBnGroups: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainMoCo');
  const { dataset, temperature, projectionDim, momentum } = config;
  const seed = config.seed ?? 0;
  const queueSize = config.queueSize ?? Math.min(4096, datasetSize(dataset));
  const batchSize = config.batchSize ?? 256;
  const shuffleBnGroups = config.shuffleBnGroups ?? (batchSize >= 4 ? 2 : 1);
  validate.assertNumber(shuffleBnGroups, 'trainMoCo: shuffleBnGroups', { min: 1, integer: true });
  if (Number.isInteger(batchSize) && batchSize < 2 * shuffleBnGroups) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `trainMoCo: shuffleBnGroups ${shuffleBnGroups} needs batchSize of at least ${2 * shuffleBnGroups} (2 rows per group), received ${batchSize}.`,
      { argument: 'shuffleBnGroups', received: shuffleBnGroups },
    );
  }
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
        // Keys: no gradient, Shuffle BN, normalised, kept past the step to be enqueued afterwards.
        const shuffle = { groups: shuffleBnGroups, rng };
        const keys = untaped(() =>
          tf.tidy(() => ops.l2Normalize(keyEncoder.applyTraining(x2!, shuffle), 1)),
        );
        pendingKeys?.dispose();
        pendingKeys = tf.keep(keys);
        const q = head.model.apply(encoder.model.apply(x1!, { training: true }), {
          training: true,
        }) as tf.Tensor2D;
        return loss(q, keys, queue.keys());
      },
      compile: (ctx) =>
        compileMocoStep(
          {
            dataset,
            encoder,
            head,
            keyEncoder,
            queue: () => queue,
            pipeline,
            temperature,
            shuffleBnGroups,
          },
          ctx,
        ),
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
        shuffleBnGroups,
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
