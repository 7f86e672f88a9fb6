import type { Rng } from '@ebmjs/core';
import { type Augmentation, augment, type ImageDataset, imageBatch } from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import { escapeHtml } from './markup.js';
import { pngDataUrl } from './png.js';

export interface ViewPair {
  label: string;
  /** data: URLs of the image and of its two augmented views. */
  original: string;
  views: [string, string];
}

/**
 * The augmentation a recipe trains with by default (as the recipes pick it): MoCo v2's for
 * moco, PIRL's image view for pirl, SimCLR's for the others.
 */
export function recipeAugmentation(
  recipe: string | undefined,
  [h, , c]: readonly [number, number, number],
): Augmentation {
  const options = { channels: c, size: h };
  if (recipe === 'moco') return augment.presets.mocoV2(options);
  if (recipe === 'pirl') return augment.presets.pirl(options);
  return augment.presets.simclr(options);
}

/** [n, h, w, c] floats in [0, 1] → one byte array per image. */
async function toBytes(batch: tf.Tensor4D): Promise<Uint8Array[]> {
  const [n, h, w, c] = batch.shape;
  const values = await batch.data();
  const size = h * w * c;
  return Array.from({ length: n }, (_, i) =>
    Uint8Array.from(values.subarray(i * size, (i + 1) * size), (v) =>
      Math.round(Math.min(1, Math.max(0, v)) * 255),
    ),
  );
}

/**
 * Two views of each of the images at `indices`, made as the recipes make them: the batch goes
 * through the augmentation twice with one seeded Rng.
 */
export async function augmentedPairs(
  ds: ImageDataset,
  indices: Int32Array,
  augmentation: Augmentation,
  rng: Rng,
): Promise<ViewPair[]> {
  const [x, a, b] = tf.tidy(() => {
    const images = imageBatch(ds, indices);
    return [images, augmentation(images, rng), augmentation(images, rng)];
  }) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  try {
    const [xs, as, bs] = await Promise.all([toBytes(x), toBytes(a), toBytes(b)]);
    return [...indices].map((index, i) => ({
      label: ds.classNames[ds.labels[index]!] ?? String(ds.labels[index]),
      original: pngDataUrl(xs[i]!, ds.imageShape),
      views: [pngDataUrl(as[i]!, ds.imageShape), pngDataUrl(bs[i]!, ds.imageShape)],
    }));
  } finally {
    tf.dispose([x, a, b]);
  }
}

/** The grid: image, view 1, view 2 per cell. */
export function viewsHtml(pairs: readonly ViewPair[]): string {
  if (pairs.length === 0) return '';
  const img = (src: string, alt: string) =>
    `<img class="thumb" alt="${escapeHtml(alt)}" src="${src}"/>`;
  return `<div class="views">${pairs
    .map(
      (p) =>
        `<figure class="view-pair">${img(p.original, `${p.label}`)}${img(p.views[0], `${p.label}, view 1`)}${img(p.views[1], `${p.label}, view 2`)}<figcaption>${escapeHtml(p.label)}: image, view 1, view 2</figcaption></figure>`,
    )
    .join('')}</div>`;
}
