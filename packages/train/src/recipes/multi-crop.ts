import { EbmError, type Rng, untaped, validate } from '@ebmjs/core';
import type { Encoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import { type Augmentation, assertRange } from '../augment/augmentation.js';
import * as presets from '../augment/presets.js';
import { type ImageDataset, imageBatch } from '../datasets/dataset.js';

/**
 * Multi-crop views (Caron et al. 2020, SwAV; DINO): `global` crops at `globalSize` over
 * `globalScale` of the image area and `local` smaller crops at `localSize` over `localScale`,
 * each followed by the rest of the recipe's preset (flip, colour, blur).
 */
export interface MultiCropOptions {
  /** Global views. Default 2 (SwAV, DINO). */
  global?: number;
  /** Local views. Default 0. */
  local?: number;
  /** Side of a global view in pixels. Default: the dataset's image side. */
  globalSize?: number;
  /** Side of a local view. Default: 96/224 of the image side (DINO's 96 px at 224), at least 4. */
  localSize?: number;
  /** Area fraction of a global crop. Default [0.4, 1] (DINO). */
  globalScale?: readonly [number, number];
  /** Area fraction of a local crop. Default [0.05, 0.4] (DINO). */
  localScale?: readonly [number, number];
}

/** Multi-crop options with every default filled in, and the two view pipelines. */
export interface MultiCrop {
  global: number;
  local: number;
  globalSize: number;
  localSize: number;
  globalScale: readonly [number, number];
  localScale: readonly [number, number];
  globalPipeline: Augmentation;
  localPipeline: Augmentation;
  /** The settings a resume must match (the pipelines follow from them). */
  fingerprint: Record<string, unknown>;
}

/**
 * Checks and completes `multiCrop`. The crops come from `presets.simclr` with its crop
 * replaced, so a custom `augmentation` (whose crop cannot be replaced) is refused with it.
 */
export function resolveMultiCrop(
  options: MultiCropOptions,
  dataset: ImageDataset,
  augmentation: Augmentation | undefined,
  recipe: string,
): MultiCrop {
  const where = `${recipe}: multiCrop`;
  if (options === null || typeof options !== 'object')
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where} must be an object, received ${JSON.stringify(options)}.`,
    );
  const known = ['global', 'local', 'globalSize', 'localSize', 'globalScale', 'localScale'];
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: unknown option "${key}", expected one of ${known.join(', ')}.`,
      );
  if (augmentation !== undefined)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where} makes its crops from presets.simclr with the crop replaced; leave augmentation unset with it, received a custom augmentation.`,
    );
  const [h, w, c] = dataset.imageShape;
  const side = Math.min(h, w);
  const global = options.global ?? 2;
  const local = options.local ?? 0;
  const globalSize = options.globalSize ?? side;
  const localSize = options.localSize ?? Math.max(4, Math.round((side * 96) / 224));
  const globalScale = options.globalScale ?? [0.4, 1];
  const localScale = options.localScale ?? [0.05, 0.4];
  validate.assertNumber(global, `${where}.global`, { min: 2, integer: true });
  validate.assertNumber(local, `${where}.local`, { min: 0, integer: true });
  validate.assertNumber(globalSize, `${where}.globalSize`, { min: 1, integer: true });
  validate.assertNumber(localSize, `${where}.localSize`, { min: 1, integer: true });
  assertRange(globalScale, `${where}.globalScale`, 0);
  assertRange(localScale, `${where}.localScale`, 0);
  const view = (scale: readonly [number, number], size: number) =>
    presets.simclr({ channels: c, size: h, crop: { scale, size } });
  return {
    global,
    local,
    globalSize,
    localSize,
    globalScale,
    localScale,
    globalPipeline: view(globalScale, globalSize),
    localPipeline: view(localScale, localSize),
    fingerprint: { global, local, globalSize, localSize, globalScale, localScale },
  };
}

/**
 * Refuses an encoder that cannot embed a view of `size` (an MLP on flat pixels of the dataset's
 * size) before any step: a ConvNet or ResNet with global pooling takes any size. Runs one
 * 2-image batch in inference mode, so no BatchNorm statistic moves.
 */
export function assertTakesViewSize(
  encoder: Encoder,
  size: number,
  channels: number,
  recipe: string,
): void {
  let shape: number[] | undefined;
  let reason = '';
  try {
    shape = untaped(() =>
      tf.tidy(() => {
        const y = encoder.model.apply(tf.zeros([2, size, size, channels]), {
          training: false,
        }) as tf.Tensor;
        return y.shape;
      }),
    );
  } catch (error) {
    reason = `: ${(error as Error).message}`;
  }
  if (shape?.length !== 2 || shape[1] !== encoder.embeddingDim)
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${recipe}: multiCrop needs an encoder that takes images of any size (a ConvNet or ResNet with global pooling); this one, built for [${encoder.inputShape.join(', ')}], cannot embed a ${size}×${size}×${channels} view${shape ? `, received output [${shape.join(', ')}]` : reason}.`,
    );
}

/**
 * The views of a batch, globals first then locals, made off the gradient tape (augmentation is
 * data preparation) in that order from `rng`. The caller disposes them.
 */
export function multiCropViews(
  dataset: ImageDataset,
  indices: Int32Array,
  crop: MultiCrop,
  rng: Rng,
): { global: tf.Tensor4D[]; local: tf.Tensor4D[] } {
  return untaped(() =>
    tf.tidy(() => {
      const x = imageBatch(dataset, indices);
      const global = Array.from({ length: crop.global }, () => crop.globalPipeline(x, rng));
      const local = Array.from({ length: crop.local }, () => crop.localPipeline(x, rng));
      return { global, local };
    }),
  );
}

/**
 * The pairs the loss is averaged over, as SwAV and DINO: every global view g with every other
 * view v (global or local), v ≠ g, as ordered pairs (g, v); local-local pairs are not used.
 * With G global and V views in all: G·(V − 1) pairs. Views are numbered globals first.
 */
export function multiCropPairs(global: number, views: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let g = 0; g < global; g++) for (let v = 0; v < views; v++) if (v !== g) pairs.push([g, v]);
  return pairs;
}

/**
 * The mean of `pairLoss(g, v)` over `multiCropPairs`: every pair has weight 1 / (G·(V − 1)).
 * For a symmetric loss a global-global pair counts twice, once each way (DINO's and SwAV's
 * sums do the same); with 2 globals and no locals it is the two-view recipe's symmetrised loss.
 */
export function multiCropLoss(
  global: number,
  views: number,
  pairLoss: (g: number, v: number) => tf.Scalar,
): tf.Scalar {
  const pairs = multiCropPairs(global, views);
  return tf.div(tf.addN(pairs.map(([g, v]) => pairLoss(g, v))), pairs.length) as tf.Scalar;
}

/**
 * What a recipe does with its `multiCrop` option: nothing when unset; otherwise the completed
 * options, after checking that the encoder takes every view size other than the dataset's.
 */
export function multiCropFor(
  options: MultiCropOptions | undefined,
  dataset: ImageDataset,
  augmentation: Augmentation | undefined,
  encoder: Encoder,
  recipe: string,
): MultiCrop | undefined {
  if (options === undefined) return undefined;
  const crop = resolveMultiCrop(options, dataset, augmentation, recipe);
  const [h, w, c] = dataset.imageShape;
  const sizes = new Set([crop.globalSize, ...(crop.local > 0 ? [crop.localSize] : [])]);
  for (const size of sizes)
    if (size !== h || size !== w) assertTakesViewSize(encoder, size, c, recipe);
  return crop;
}
