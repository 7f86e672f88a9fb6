import { validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Augmentation,
  applyWithProbability,
  assertImages,
  assertProbability,
  luma,
  uniform,
} from './augmentation.js';

export interface ColorJitterOptions {
  /** Brightness factor drawn from [max(0, 1 − b), 1 + b]. */
  brightness?: number;
  /** Contrast factor drawn from [max(0, 1 − c), 1 + c], around each image's mean luma. */
  contrast?: number;
  /** Saturation factor drawn from [max(0, 1 − s), 1 + s] (RGB only). */
  saturation?: number;
  /** Hue shift drawn from [−h, h] turns (h ≤ 0.5), a rotation of the YIQ chroma plane (RGB only). */
  hue?: number;
  /** Probability of jittering an image at all. Default 0.8 (SimCLR). */
  p?: number;
}

// RGB ↔ YIQ (NTSC). A hue shift is a rotation of the (I, Q) chroma plane.
const RGB_TO_YIQ = [
  [0.299, 0.596, 0.211],
  [0.587, -0.274, -0.523],
  [0.114, -0.322, 0.312],
];
const YIQ_TO_RGB = [
  [1, 1, 1],
  [0.956, -0.272, -1.106],
  [0.621, -0.647, 1.703],
];

/**
 * SimCLR's colour distortion: brightness, contrast, saturation and hue factors drawn per image,
 * applied in that fixed order, the result clipped to [0, 1]. On 1-channel images only
 * brightness and contrast apply.
 */
export function colorJitter(options: ColorJitterOptions = {}): Augmentation {
  const { brightness = 0, contrast = 0, saturation = 0, hue = 0, p = 0.8 } = options;
  validate.assertNumber(brightness, 'colorJitter: brightness', { min: 0 });
  validate.assertNumber(contrast, 'colorJitter: contrast', { min: 0 });
  validate.assertNumber(saturation, 'colorJitter: saturation', { min: 0 });
  validate.assertNumber(hue, 'colorJitter: hue', { min: 0, max: 0.5 });
  assertProbability(p, 'colorJitter: p');
  return (images, rng) => {
    assertImages(images, 'colorJitter');
    const [n, , , c] = images.shape;
    const draw = (amount: number) =>
      Float32Array.from({ length: n }, () => uniform(rng, Math.max(0, 1 - amount), 1 + amount));
    const b = draw(brightness);
    const ct = draw(contrast);
    const s = draw(saturation);
    const hShift = Float32Array.from({ length: n }, () => uniform(rng, -hue, hue));
    const perImage = (v: Float32Array) => tf.tensor4d(v, [n, 1, 1, 1]);
    return applyWithProbability(images, rng, p, (x) => {
      let y: tf.Tensor4D = brightness > 0 ? tf.mul(x, perImage(b)) : x;
      if (contrast > 0) {
        const mean = tf.mean(luma(y), [1, 2, 3], true);
        y = tf.add(tf.mul(tf.sub(y, mean), perImage(ct)), mean);
      }
      if (c === 3 && saturation > 0) {
        const gray = luma(y);
        y = tf.add(gray, tf.mul(tf.sub(y, gray), perImage(s)));
      }
      if (c === 3 && hue > 0) y = shiftHue(y, hShift);
      return tf.clipByValue(y, 0, 1) as tf.Tensor4D;
    });
  };
}

function shiftHue(images: tf.Tensor4D, turns: Float32Array): tf.Tensor4D {
  const [n, h, w] = images.shape;
  const yiq = tf.reshape(tf.matMul(tf.reshape(images, [n, h * w, 3]), tf.tensor2d(RGB_TO_YIQ)), [
    n,
    h * w,
    3,
  ]);
  // Per-image rotation of (I, Q) as a batched 3×3 matrix.
  const rot = new Float32Array(n * 9);
  turns.forEach((t, i) => {
    const cos = Math.cos(2 * Math.PI * t);
    const sin = Math.sin(2 * Math.PI * t);
    rot.set([1, 0, 0, 0, cos, sin, 0, -sin, cos], i * 9);
  });
  const rotated = tf.matMul(yiq, tf.tensor3d(rot, [n, 3, 3]));
  return tf.reshape(tf.matMul(rotated, tf.tensor2d(YIQ_TO_RGB)), [n, h, w, 3]) as tf.Tensor4D;
}
