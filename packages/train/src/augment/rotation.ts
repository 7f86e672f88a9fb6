import { affineResample } from './affine.js';
import { type Augmentation, assertImages, assertRange, uniform } from './augmentation.js';

/** Rotates each image about its centre by a uniform angle in [−degrees, degrees] (zeros fill corners). */
export function rotation({ degrees }: { degrees: number }): Augmentation {
  assertRange([0, degrees], 'rotation: degrees', 0);
  return (images, rng) => {
    assertImages(images, 'rotation');
    const [n, h, w] = images.shape;
    const boxes = Array.from({ length: n }, () => ({
      cx: w / 2,
      cy: h / 2,
      width: w,
      height: h,
      angle: (uniform(rng, -degrees, degrees) * Math.PI) / 180,
    }));
    return affineResample(images, boxes);
  };
}
