import { resolveOptions } from '@ebmjs/contract';
import { vicReg } from '@ebmjs/losses';
import type { Encoder, Head } from '@ebmjs/models';
import type { Augmentation } from '../augment/augmentation.js';
import type { ImageDataset } from '../datasets/dataset.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
import { trainJointEmbedding } from './joint-embedding.js';
import type { MultiCropOptions } from './multi-crop.js';
import { assertImageDataset } from './shared.js';

export interface VICRegConfig extends TrainConfig {
  dataset: ImageDataset;
  /** Default: `convEncoder` for the dataset's image shape. */
  encoder?: Encoder;
  /** The expander. Default: 3 Dense layers (BN-ReLU between) of `hiddenDim` → `projectionDim`. */
  projector?: Head;
  /** Expander output. VICReg: 8192, four times ResNet-50's 2048 features; default 512. */
  projectionDim?: number;
  /** Expander hidden width. Default projectionDim (VICReg: 8192-8192-8192). */
  hiddenDim?: number;
  /** λ, the invariance weight. Default 25 (the paper's). */
  invariance?: number;
  /** μ, the variance weight. Default 25 (the paper's). */
  variance?: number;
  /** ν, the covariance weight. Default 1 (the paper's). */
  covariance?: number;
  /** Default: `augment.presets.simclr` for the dataset's channels and size. */
  augmentation?: Augmentation;
  /** SwAV/DINO multi-crop views instead of two (see `MultiCropOptions`). Default: two views. */
  multiCrop?: MultiCropOptions;
}

export interface VICRegResult extends TrainResult {
  encoder: Encoder;
  projector: Head;
}

/**
 * VICReg (Bardes, Ponce & LeCun 2022): the two views' expanded projections are pulled together
 * (invariance) while each dimension keeps a standard deviation of 1 over the batch (variance)
 * and the dimensions are decorrelated (covariance); no negatives, no momentum target, no
 * predictor. The loss is `vicReg` of @ebmjs/losses (the released code's normalisation).
 */
export async function trainVICReg(given: VICRegConfig): Promise<VICRegResult> {
  const config = resolveOptions('trainVICReg', given, {
    dataset: undefined,
    encoder: undefined,
    projector: undefined,
    projectionDim: 512,
    hiddenDim: undefined,
    invariance: 25,
    variance: 25,
    covariance: 1,
    augmentation: undefined,
    multiCrop: undefined,
    ...TRAIN_CONFIG_KEYS,
  });
  assertImageDataset(config.dataset, 'trainVICReg');
  const { invariance, variance, covariance, projectionDim } = config;
  return trainJointEmbedding({
    recipe: 'trainVICReg',
    tag: 'vicreg',
    config,
    projectionDim,
    hiddenDim: config.hiddenDim ?? projectionDim,
    depth: 3,
    loss: vicReg({ invariance, variance, covariance }),
    settings: { invariance, variance, covariance },
    graphLoss: { kind: 'vicreg', invariance, variance, covariance },
  });
}
