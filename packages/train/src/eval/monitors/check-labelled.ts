import { EbmError } from '@ebmjs/core';
import type { ImageDataset } from '../../datasets/dataset.js';

/**
 * A monitor's datasets must be labelled with class indices: STL-10's unlabelled images carry −1,
 * which a vote or a softmax cannot score.
 */
export function checkLabelled(dataset: ImageDataset | undefined, what: string): ImageDataset {
  if (
    dataset === undefined ||
    !(dataset.labels instanceof Int32Array) ||
    !(dataset.pixels instanceof Uint8Array)
  )
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what}: expected an ImageDataset (pixels, labels, imageShape, classNames), received ${dataset === undefined ? 'undefined' : typeof dataset}.`,
    );
  if (dataset.labels.length === 0)
    throw new EbmError('INVALID_ARGUMENT', `${what}: expected at least 1 image, received 0.`);
  const bad = dataset.labels.findIndex((l) => l < 0);
  if (bad >= 0)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what}: expected class labels >= 0, received ${dataset.labels[bad]} at image ${bad} (unlabelled images cannot be scored; use a labelled split).`,
    );
  return dataset;
}
