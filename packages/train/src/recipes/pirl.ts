import { resolveOptions } from '@ebmjs/contract';
import { ops, type Rng, untaped } from '@ebmjs/core';
import { pirlNCE } from '@ebmjs/losses';
import { convEncoder, type Encoder, MemoryBank, type PirlHeads, pirlHeads } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import { jigsaw } from '../augment/jigsaw.js';
import * as presets from '../augment/presets.js';
import { datasetSize, type ImageDataset, imageBatch } from '../datasets/dataset.js';
import { compilePirlStep } from '../engine/pirl-step.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import {
  assertImageDataset,
  augmentationFingerprint,
  modelFingerprint,
  trainableVariables,
} from './shared.js';

export interface PIRLConfig extends TrainConfig {
  dataset: ImageDataset;
  /**
   * The shared trunk. It sees whole images (f) and jigsaw patches (g), so its spatial input
   * size must be free: default `convEncoder({ inputShape: [null, null, channels] })`.
   */
  encoder?: Encoder;
  projectionDim?: number;
  /** NCE temperature. PIRL: 0.07. */
  temperature?: number;
  /** Weight of the transform-to-memory term against the image-to-memory term. PIRL: 0.5. */
  lambda?: number;
  /** Negatives drawn from the memory bank per image. PIRL: 32000; default min(1024, N − 1). */
  negatives?: number;
  /** Memory-bank momentum μ. PIRL: 0.5. */
  bankMomentum?: number;
  /** Photometric/crop augmentation applied before f and before cutting the jigsaw. */
  augmentation?: Augmentation;
}

export interface PIRLResult extends TrainResult {
  encoder: Encoder;
  heads: PirlHeads;
  bank: MemoryBank;
}

/**
 * PIRL (Misra & van der Maaten 2020): the image head f(v_I) and the jigsaw head g(v_It) are
 * both pulled towards the image's memory-bank entry m_I and pushed from other items' entries,
 * with the NCE loss of the lecture; the bank follows m ← normalize(μm + (1−μ)f(v_I)).
 */
export async function trainPIRL(given: PIRLConfig): Promise<PIRLResult> {
  const config = resolveOptions('trainPIRL', given, {
    dataset: undefined,
    encoder: undefined,
    projectionDim: 128,
    temperature: 0.07,
    lambda: 0.5,
    negatives: undefined,
    bankMomentum: 0.5,
    augmentation: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainPIRL');
  const { dataset, temperature, lambda, projectionDim, bankMomentum } = config;
  const seed = config.seed ?? 0;
  const n = datasetSize(dataset);
  const k = config.negatives ?? Math.min(1024, n - 1);
  const [h, w, c] = dataset.imageShape;
  const encoder = config.encoder ?? convEncoder({ inputShape: [null, null, c], seed });
  const grid = 3;
  const patch = Math.max(1, Math.floor(Math.floor(Math.min(h, w) / grid) * 0.85));
  const heads = pirlHeads({
    encoder,
    imageShape: [h, w, c],
    patchShape: [patch, patch, c],
    numPatches: grid * grid,
    projectionDim,
    seed: seed + 1,
  });
  const pipeline = config.augmentation ?? presets.pirl({ channels: c, size: h });
  let bank = new MemoryBank({
    size: n,
    dim: projectionDim,
    momentum: bankMomentum,
    seed: seed + 2,
  });
  const loss = pirlNCE({ temperature, lambda });
  const trainable = trainableVariables(heads.joint);
  let pendingF: tf.Tensor | undefined;

  try {
    const result = await runTrainingLoop({
      config,
      recipe: 'trainPIRL',
      datasetSize: n,
      viewsPerImage: 1 + grid * grid,
      trainable: () => trainable,
      loss: (indices: Int32Array, rng: Rng) => {
        const [image, patches] = untaped(() =>
          tf.tidy(() => {
            const x = imageBatch(dataset, indices);
            const cut = jigsaw(pipeline(x, rng), rng, { grid, patchSize: patch }).patches;
            return [
              pipeline(x, rng),
              tf.reshape(cut, [indices.length, grid * grid, patch, patch, c]),
            ];
          }),
        );
        const f = heads.applyF(image!, true);
        const g = heads.applyG(patches!, true);
        const { memory, negatives } = untaped(() =>
          tf.tidy(() => ({
            memory: bank.get(indices),
            negatives: bank.negatives(indices, k).negatives,
          })),
        );
        pendingF?.dispose();
        pendingF = tf.keep(untaped(() => tf.tidy(() => ops.l2Normalize(f, 1))));
        return loss(f, g, negatives, memory);
      },
      compile: (ctx) =>
        compilePirlStep(
          {
            dataset,
            heads,
            bank: () => bank,
            pipeline,
            grid,
            patch,
            negatives: k,
            temperature,
            lambda,
          },
          ctx,
        ),
      afterStep: (indices) => {
        if (pendingF) bank.update(indices, pendingF);
        pendingF?.dispose();
        pendingF = undefined;
      },
      models: () => ({ pirl: heads.joint }),
      extras: () => ({ bank }),
      restoreExtras: async (dirOf) => {
        const loaded = await MemoryBank.load(dirOf('bank'));
        bank.dispose();
        bank = loaded;
      },
      fingerprint: {
        recipe: 'pirl',
        temperature,
        lambda,
        projectionDim,
        negatives: k,
        bankMomentum,
        batchSize: config.batchSize ?? 256,
        epochs: config.epochs ?? 1,
        seed,
        dataset: dataset.name,
        model: modelFingerprint(heads.joint),
        augmentation: augmentationFingerprint(config.augmentation, 'pirl'),
      },
    });
    return { ...result, encoder, heads, bank };
  } finally {
    pendingF?.dispose();
  }
}
