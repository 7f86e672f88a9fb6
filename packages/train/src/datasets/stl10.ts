import { EbmError } from '@ebmjs/core';
import {
  type ArchiveLoadOptions,
  type ArchiveSpec,
  checkArchiveOptions,
  checkSplit,
  fetchArchive,
  readTarGz,
} from './archive-source.js';
import { checkedLabels } from './cifar.js';
import type { ImageDataset } from './dataset.js';
import { planarToHwc, RecordSplit } from './record-split.js';

// The URL and MD5 torchvision's STL10 uses.
const STL10: ArchiveSpec = {
  name: 'stl10',
  file: 'stl10_binary.tar.gz',
  md5: '91f7769df0f17e558f3565bffb0c7dfb',
  mirrors: ['http://ai.stanford.edu/~acoates/stl10'],
};

const CLASSES = [
  'airplane',
  'bird',
  'car',
  'cat',
  'deer',
  'dog',
  'horse',
  'monkey',
  'ship',
  'truck',
];
const SPLITS = ['train', 'test', 'unlabeled', 'train+unlabeled'] as const;
export type Stl10Split = (typeof SPLITS)[number];

/** An image: 96×96 red, then green, then blue, each plane column-major (MATLAB's order). */
const STL_LAYOUT = planarToHwc(96, 96, 3, 'column-major');
/** The *_y.bin files: one byte per image, the class 1..10. */
const LABEL_FORMAT = { labelBytes: 1, layout: new Int32Array(0) };

export interface Stl10Options extends ArchiveLoadOptions {
  /**
   * 'train' (5,000 labelled images), 'test' (8,000), 'unlabeled' (100,000, labels −1) or
   * 'train+unlabeled' (the 5,000 then the 100,000, as torchvision orders them). Default 'train'.
   */
  split?: Stl10Split;
}

const member = (file: string) => `stl10_binary/${file}`;

/**
 * STL-10 (Coates et al. 2011): 96×96×3 images of 10 classes, 5,000 for training, 8,000 for
 * test and 100,000 unlabelled ones for unsupervised learning. Downloads the 2.5 GB archive once
 * (MD5-verified, written atomically) and decodes the images as they stream out of the gzip.
 * Images of the unlabelled split carry label −1: train on them, evaluate on the labelled splits.
 */
export async function loadStl10(options: Stl10Options = {}): Promise<ImageDataset> {
  const split = checkSplit(options.split ?? 'train', SPLITS, 'loadStl10');
  const limit = checkArchiveOptions(options, 'loadStl10');
  const path = await fetchArchive(STL10, options);
  const what = `loadStl10: ${path}`;
  const imageFiles = {
    train: ['train_X.bin'],
    test: ['test_X.bin'],
    unlabeled: ['unlabeled_X.bin'],
    'train+unlabeled': ['train_X.bin', 'unlabeled_X.bin'],
  }[split].map(member);
  const labelFile =
    split === 'test' ? 'test_y.bin' : split === 'unlabeled' ? undefined : 'train_y.bin';
  const images = new RecordSplit(what, imageFiles, { labelBytes: 0, layout: STL_LAYOUT }, limit);
  const labels =
    labelFile === undefined
      ? undefined
      : new RecordSplit(what, [member(labelFile)], LABEL_FORMAT, limit);
  await readTarGz(
    path,
    what,
    (entry) => images.sinkFor(entry) ?? labels?.sinkFor(entry),
    () => images.done && (labels?.done ?? true),
  );
  const decoded = images.result();
  const all = new Int32Array(decoded.count).fill(-1);
  if (labels) {
    const classes = checkedLabels(labels.result().labels[0]!, 10, what, 1);
    // The labelled images are the first ones: all of a labelled split, train's in train+unlabeled.
    const labelled = Math.min(decoded.count, images.memberCount(imageFiles[0]!) ?? 0);
    if (classes.length !== labelled) {
      throw new EbmError(
        'CORRUPT_FILE',
        `${what}: ${labelFile} holds ${classes.length} labels, expected one per image (${labelled}).`,
      );
    }
    all.set(classes);
  }
  return {
    name: `stl10-${split}`,
    imageShape: [96, 96, 3],
    pixels: decoded.pixels,
    labels: all,
    classNames: CLASSES,
  };
}
