import * as tf from '@tensorflow/tfjs-core';
import {
  type Augmentation,
  assertImages,
  assertProbability,
  assertRange,
  uniform,
} from './augmentation.js';

export interface GaussianBlurOptions {
  /** Probability of blurring an image. SimCLR: 0.5. */
  p?: number;
  /** σ drawn uniformly from this range, in pixels. SimCLR: [0.1, 2]. */
  sigma?: readonly [number, number];
  /** Odd kernel size. Default: about 10% of the image side (SimCLR), at least 3. */
  kernelSize?: number;
}

/**
 * Gaussian blur with a σ drawn per image. The whole batch is blurred by one separable depthwise
 * convolution: images and channels are folded into the channel axis ([1, h, w, n·c]) so each
 * image gets its own kernel (an identity kernel when it is not blurred).
 */
export function gaussianBlur(options: GaussianBlurOptions = {}): Augmentation {
  const { p = 0.5 } = options;
  const sigma = options.sigma ?? [0.1, 2];
  assertProbability(p, 'gaussianBlur: p');
  assertRange(sigma, 'gaussianBlur: sigma', 0);
  return (images, rng) => {
    assertImages(images, 'gaussianBlur');
    const [n, h, w, c] = images.shape;
    const k = options.kernelSize ?? Math.max(3, 2 * Math.floor(0.05 * Math.min(h, w)) + 1);
    const radius = Math.floor(k / 2);
    const taps = new Float32Array(k * n * c);
    for (let i = 0; i < n; i++) {
      const blur = rng.next() < p;
      const s = Math.max(uniform(rng, sigma[0], sigma[1]), 1e-6);
      const weights = Array.from({ length: k }, (_, j) =>
        blur ? Math.exp(-((j - radius) ** 2) / (2 * s * s)) : j === radius ? 1 : 0,
      );
      const total = weights.reduce((a, b) => a + b, 0);
      for (let j = 0; j < k; j++)
        for (let ch = 0; ch < c; ch++) taps[j * n * c + i * c + ch] = weights[j]! / total;
    }
    return tf.tidy(() => {
      const folded = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [
        1,
        h,
        w,
        n * c,
      ]) as tf.Tensor4D;
      const horizontal = tf.tensor4d(taps, [1, k, n * c, 1]);
      const vertical = tf.tensor4d(taps, [k, 1, n * c, 1]);
      const blurred = tf.depthwiseConv2d(
        tf.depthwiseConv2d(folded, horizontal, 1, 'same'),
        vertical,
        1,
        'same',
      );
      return tf.transpose(tf.reshape(blurred, [h, w, n, c]), [2, 0, 1, 3]) as tf.Tensor4D;
    });
  };
}
