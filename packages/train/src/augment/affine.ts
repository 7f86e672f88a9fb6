import * as tf from '@tensorflow/tfjs-core';

/** Where one output image samples its input: a box (in input pixels) and a rotation. */
export interface AffineBox {
  /** Centre of the sampled region, in input pixel coordinates. */
  cx: number;
  cy: number;
  /** Size of the sampled region, in input pixels. */
  width: number;
  height: number;
  /** Rotation of the region in radians (counter-clockwise). */
  angle: number;
}

/**
 * Resamples every image of the batch from its box (bilinear, zeros outside), rotated by its
 * angle, into an output of the same size (or `outputSize` [height, width]: multi-crop's smaller
 * local views): crop, resize and rotation in one `tf.image.transform` call. Transform maps each output pixel (x, y) to the input point
 * (a0·x + a1·y + a2, b0·x + b1·y + b2).
 */
export function affineResample(
  images: tf.Tensor4D,
  boxes: readonly AffineBox[],
  outputSize?: readonly [number, number],
): tf.Tensor4D {
  const [h, w] = outputSize ?? [images.shape[1], images.shape[2]];
  const ox = (w - 1) / 2;
  const oy = (h - 1) / 2;
  const params = new Float32Array(boxes.length * 8);
  boxes.forEach((box, i) => {
    const sx = box.width / w;
    const sy = box.height / h;
    const cos = Math.cos(box.angle);
    const sin = Math.sin(box.angle);
    const a0 = cos * sx;
    const a1 = -sin * sy;
    const b0 = sin * sx;
    const b1 = cos * sy;
    // Output centre maps to the box centre (pixel centres at integer coordinates).
    const cx = box.cx - 0.5;
    const cy = box.cy - 0.5;
    params.set([a0, a1, cx - a0 * ox - a1 * oy, b0, b1, cy - b0 * ox - b1 * oy, 0, 0], i * 8);
  });
  return tf.tidy(() => {
    const transforms = tf.tensor2d(params, [boxes.length, 8]);
    // 'nearest' fill: float32 rounding can put an edge pixel's sample a hair outside the image,
    // where 'constant' would zero it.
    const shape = outputSize ? ([h, w] as [number, number]) : undefined;
    const run = (x: tf.Tensor4D, t: tf.Tensor2D) =>
      tf.image.transform(x, t, 'bilinear', 'nearest', 0, shape);
    // tfjs-backend-cpu 4.22's Transform returns after the first image of a batch (the rest
    // stay zero), so on cpu each image is transformed on its own.
    if (tf.getBackend() !== 'cpu' || boxes.length === 1) return run(images, transforms);
    const parts = tf
      .split(images, boxes.length, 0)
      .map((x, i) => run(x as tf.Tensor4D, tf.slice(transforms, [i, 0], [1, 8])));
    return tf.concat(parts, 0);
  });
}
