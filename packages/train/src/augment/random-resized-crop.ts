import { type Rng, validate } from '@ebmjs/core';
import { type AffineBox, affineResample } from './affine.js';
import { type Augmentation, assertImages, assertRange, uniform } from './augmentation.js';

export interface RandomResizedCropOptions {
  /** Fraction of the image area the crop covers. SimCLR: [0.08, 1]. Default [0.08, 1]. */
  scale?: readonly [number, number];
  /** Aspect ratio (width / height) range, sampled log-uniformly. Default [3/4, 4/3]. */
  ratio?: readonly [number, number];
  /** Also rotate each crop by a uniform angle in [−degrees, degrees]. Default 0. */
  degrees?: number;
  /** Side of the square output in pixels (torchvision's `size`). Default: the input's size. */
  size?: number;
}

/**
 * Inception-style random resized crop (as torchvision's RandomResizedCrop): each image gets a
 * box of random area and aspect ratio at a random place, resized back to the input size (or to
 * `size`).
 * With `degrees` it becomes the random affine crop used for digits.
 */
export function randomResizedCrop(options: RandomResizedCropOptions = {}): Augmentation {
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  const degrees = options.degrees ?? 0;
  assertRange(scale, 'randomResizedCrop: scale', 0);
  assertRange(ratio, 'randomResizedCrop: ratio', 0);
  assertRange([0, degrees], 'randomResizedCrop: degrees', 0);
  const size = options.size;
  if (size !== undefined)
    validate.assertNumber(size, 'randomResizedCrop: size', { min: 1, integer: true });
  return (images, rng) => {
    assertImages(images, 'randomResizedCrop');
    const [n, h, w] = images.shape;
    const boxes = Array.from({ length: n }, () =>
      sampleBox(rng, h, w, scale, ratio, (uniform(rng, -degrees, degrees) * Math.PI) / 180),
    );
    return affineResample(images, boxes, size === undefined ? undefined : [size, size]);
  };
}

/** torchvision's sampling: 10 tries at a box that fits, then a centre crop clamped to the ratio range. */
export function sampleBox(
  rng: Rng,
  h: number,
  w: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  angle = 0,
): AffineBox {
  const area = h * w;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * uniform(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniform(rng, logRatio[0], logRatio[1]));
    const bw = Math.sqrt(target * aspect);
    const bh = Math.sqrt(target / aspect);
    if (bw > 0 && bh > 0 && bw <= w && bh <= h) {
      const x0 = uniform(rng, 0, w - bw);
      const y0 = uniform(rng, 0, h - bh);
      return { cx: x0 + bw / 2, cy: y0 + bh / 2, width: bw, height: bh, angle };
    }
  }
  const inRatio = w / h;
  let bw = w;
  let bh = h;
  if (inRatio < ratio[0]) bh = w / ratio[0];
  else if (inRatio > ratio[1]) bw = h * ratio[1];
  return { cx: w / 2, cy: h / 2, width: bw, height: bh, angle };
}
