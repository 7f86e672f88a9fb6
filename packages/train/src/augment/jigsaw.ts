import { EbmError, type Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertImages } from './augmentation.js';

export interface JigsawOptions {
  /** Patches per side. PIRL: 3. */
  grid?: number;
  /** Side of each patch in pixels; each is cut at a random offset inside its cell. Default ≈ 0.85 × cell. */
  patchSize?: number;
}

export interface JigsawResult {
  /** [n · grid², patch, patch, c]: the grid² patches of image 0, then of image 1, ... */
  patches: tf.Tensor4D;
  /** For each image, position k holds the patch of cell permutations[i · grid² + k]. */
  permutations: Int32Array;
}

/**
 * PIRL's jigsaw transform: cut each image into grid × grid cells, take a randomly placed patch
 * inside each cell (so edges do not give the order away), and shuffle the patches with a random
 * permutation per image.
 */
export function jigsaw(images: tf.Tensor4D, rng: Rng, options: JigsawOptions = {}): JigsawResult {
  assertImages(images, 'jigsaw');
  const { grid = 3 } = options;
  const [n, h, w] = images.shape;
  validate.assertNumber(grid, 'jigsaw: grid', { min: 1, integer: true });
  const cell = Math.floor(Math.min(h, w) / grid);
  const patch = options.patchSize ?? Math.max(1, Math.floor(cell * 0.85));
  if (!(Number.isInteger(patch) && patch >= 1 && patch <= cell)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `jigsaw: patchSize must be an integer in [1, ${cell}] for ${h}×${w} images and grid ${grid}, received ${patch}.`,
    );
  }
  const cells = grid * grid;
  const boxes = new Float32Array(n * cells * 4);
  const boxIndex = new Int32Array(n * cells);
  const permutations = new Int32Array(n * cells);
  for (let i = 0; i < n; i++) {
    const order = rng.permutation(cells);
    for (let k = 0; k < cells; k++) {
      const source = order[k]!;
      const top = Math.floor(source / grid) * cell + rng.int(cell - patch + 1);
      const left = (source % grid) * cell + rng.int(cell - patch + 1);
      // Normalised corners that make cropAndResize sample exactly pixels top..top+patch−1.
      boxes.set(
        [top / (h - 1), left / (w - 1), (top + patch - 1) / (h - 1), (left + patch - 1) / (w - 1)],
        (i * cells + k) * 4,
      );
      boxIndex[i * cells + k] = i;
      permutations[i * cells + k] = source;
    }
  }
  const patches = tf.tidy(() =>
    tf.image.cropAndResize(
      images,
      tf.tensor2d(boxes, [n * cells, 4]),
      tf.tensor1d(boxIndex, 'int32'),
      [patch, patch],
      'bilinear',
    ),
  );
  return { patches, permutations };
}
