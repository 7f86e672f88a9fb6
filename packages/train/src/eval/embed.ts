import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchIndices, datasetSize, type ImageDataset, imageBatch } from '../datasets/dataset.js';

/** Something that maps an image batch to embeddings: a LayersModel or any function. */
export type Embedder = tfl.LayersModel | ((images: tf.Tensor4D) => tf.Tensor);

/** Embeds every image of a dataset in batches, returning a [n, d] tensor the caller owns. */
export function embedDataset(
  encoder: Embedder,
  ds: ImageDataset,
  { batchSize = 256 }: { batchSize?: number } = {},
): tf.Tensor2D {
  const run =
    typeof encoder === 'function' ? encoder : (x: tf.Tensor4D) => encoder.predict(x) as tf.Tensor;
  const parts: tf.Tensor2D[] = [];
  try {
    for (const indices of batchIndices(datasetSize(ds), { batchSize, shuffle: false })) {
      parts.push(
        tf.tidy(() => {
          const out = run(imageBatch(ds, indices));
          return tf.reshape(out, [indices.length, -1]) as tf.Tensor2D;
        }),
      );
    }
    return parts.length === 1 ? parts[0]! : tf.tidy(() => tf.concat(parts, 0));
  } finally {
    if (parts.length > 1) tf.dispose(parts);
  }
}

/** Flattened raw pixels in [0, 1] as embeddings: the "raw pixels" baseline. */
export function pixelEmbedder(images: tf.Tensor4D): tf.Tensor {
  return tf.reshape(images, [images.shape[0], -1]);
}
