import { type AffineBox, affineResample } from './affine.js';
import { type Augmentation, applyWithProbability } from './augmentation.js';
import { type ColorJitterOptions, colorJitter } from './color-jitter.js';
import { compose, twoViews } from './compose.js';
import { type GaussianBlurOptions, gaussianBlur } from './gaussian-blur.js';
import { grayscale } from './grayscale.js';
import { horizontalFlip } from './horizontal-flip.js';
import { type JigsawOptions, type JigsawResult, jigsaw } from './jigsaw.js';
import * as presets from './presets.js';
import { type RandomResizedCropOptions, randomResizedCrop } from './random-resized-crop.js';
import { rotation } from './rotation.js';

/** Batched, seeded image augmentations for contrastive training. */
export const augment = {
  randomResizedCrop,
  horizontalFlip,
  rotation,
  colorJitter,
  grayscale,
  gaussianBlur,
  jigsaw,
  compose,
  twoViews,
  affineResample,
  applyWithProbability,
  presets,
};

export type { PresetOptions } from './presets.js';
export type {
  AffineBox,
  Augmentation,
  ColorJitterOptions,
  GaussianBlurOptions,
  JigsawOptions,
  JigsawResult,
  RandomResizedCropOptions,
};
