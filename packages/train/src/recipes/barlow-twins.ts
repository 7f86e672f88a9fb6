import { resolveOptions } from '@ebmjs/contract';
import { barlowTwins } from '@ebmjs/losses';
import type { Encoder, Head } from '@ebmjs/models';
import type { Augmentation } from '../augment/augmentation.js';
import type { ImageDataset } from '../datasets/dataset.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
import { trainJointEmbedding } from './joint-embedding.js';
import type { MultiCropOptions } from './multi-crop.js';
import { assertImageDataset } from './shared.js';

export interface BarlowTwinsConfig extends TrainConfig {
  dataset: ImageDataset;
  /** Default: `convEncoder` for the dataset's image shape. */
  encoder?: Encoder;
  /** Default: 3 Dense layers (BN-ReLU between) of `hiddenDim` → `projectionDim`. */
  projector?: Head;
  /** Projector output. Barlow Twins: 8192; default 512. */
  projectionDim?: number;
  /** Projector hidden width. Default projectionDim (Barlow Twins: 8192-8192-8192). */
  hiddenDim?: number;
  /** λ, the weight of the off-diagonal (redundancy) term. Default 5e-3 (the paper's 0.0051). */
  lambda?: number;
  /** Default: `augment.presets.simclr` for the dataset's channels and size. */
  augmentation?: Augmentation;
  /** SwAV/DINO multi-crop views instead of two (see `MultiCropOptions`). Default: two views. */
  multiCrop?: MultiCropOptions;
}

export interface BarlowTwinsResult extends TrainResult {
  encoder: Encoder;
  projector: Head;
}

/**
 * Barlow Twins (Zbontar et al. 2021): the cross-correlation of the two views' batch-standardised
 * projections is driven to the identity: its diagonal to 1 (invariance), its off-diagonal to 0
 * (redundancy reduction, weight λ). The loss is `barlowTwins` of @ebmjs/losses.
 */
export async function trainBarlowTwins(given: BarlowTwinsConfig): Promise<BarlowTwinsResult> {
  const config = resolveOptions('trainBarlowTwins', given, {
    dataset: undefined,
    encoder: undefined,
    projector: undefined,
    projectionDim: 512,
    hiddenDim: undefined,
    lambda: 5e-3,
    augmentation: undefined,
    multiCrop: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainBarlowTwins');
  const { lambda, projectionDim } = config;
  return trainJointEmbedding({
    recipe: 'trainBarlowTwins',
    tag: 'barlow-twins',
    config,
    projectionDim,
    hiddenDim: config.hiddenDim ?? projectionDim,
    depth: 3,
    loss: barlowTwins({ lambda }),
    settings: { lambda },
    graphLoss: { kind: 'barlow-twins', lambda },
  });
}
