import { EbmError } from '@ebmjs/core';
import {
  type ArchiveLoadOptions,
  type ArchiveSpec,
  checkArchiveOptions,
  checkSplit,
  fetchArchive,
  readTarGz,
} from './archive-source.js';
import type { ImageDataset } from './dataset.js';
import { planarToHwc, RecordSplit } from './record-split.js';

// The binary versions ("suitable for C programs") and the MD5s the authors publish on
// https://www.cs.toronto.edu/~kriz/cifar.html (torchvision reads the pickled Python versions).
const CIFAR10: ArchiveSpec = {
  name: 'cifar10',
  file: 'cifar-10-binary.tar.gz',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  mirrors: ['https://www.cs.toronto.edu/~kriz'],
};
const CIFAR100: ArchiveSpec = {
  name: 'cifar100',
  file: 'cifar-100-binary.tar.gz',
  md5: '03b5dce01913d631647c71ecec9e9cb8',
  mirrors: ['https://www.cs.toronto.edu/~kriz'],
};

const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

// fine_label_names.txt and coarse_label_names.txt of the archive, in label order.
const CIFAR100_FINE = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus ' +
  'butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch ' +
  'crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo ' +
  'keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse ' +
  'mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy ' +
  'porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper ' +
  'snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television ' +
  'tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm'
).split(' ');
const CIFAR100_COARSE = (
  'aquatic_mammals fish flowers food_containers fruit_and_vegetables ' +
  'household_electrical_devices household_furniture insects large_carnivores ' +
  'large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores ' +
  'medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1 vehicles_2'
).split(' ');

/** A record: label byte(s), then 1024 red, 1024 green and 1024 blue bytes, each plane row-major. */
const CIFAR_LAYOUT = planarToHwc(32, 32, 3, 'row-major');

export interface Cifar10Options extends ArchiveLoadOptions {
  /** 'train' (50,000 images, data_batch_1..5) or 'test' (10,000). Default 'train'. */
  split?: 'train' | 'test';
}

export interface Cifar100Options extends ArchiveLoadOptions {
  /** 'train' (50,000 images) or 'test' (10,000). Default 'train'. */
  split?: 'train' | 'test';
  /** The 100 'fine' classes (default) or the 20 'coarse' superclasses. */
  labels?: 'fine' | 'coarse';
}

/** Labels as Int32, each checked against the number of classes. */
export function checkedLabels(
  bytes: Uint8Array,
  classes: number,
  what: string,
  offset = 0,
): Int32Array {
  const labels = new Int32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const label = bytes[i]! - offset;
    if (!(label >= 0 && label < classes)) {
      throw new EbmError(
        'CORRUPT_FILE',
        `${what}: record ${i} has label ${bytes[i]}, expected ${offset} to ${classes - 1 + offset}.`,
      );
    }
    labels[i] = label;
  }
  return labels;
}

async function readCifar(
  spec: ArchiveSpec,
  caller: string,
  members: readonly string[],
  labelBytes: 1 | 2,
  options: ArchiveLoadOptions,
) {
  const limit = checkArchiveOptions(options, caller);
  const path = await fetchArchive(spec, options);
  const what = `${caller}: ${path}`;
  const split = new RecordSplit(what, members, { labelBytes, layout: CIFAR_LAYOUT }, limit);
  await readTarGz(
    path,
    what,
    (entry) => split.sinkFor(entry),
    () => split.done,
  );
  return { records: split.result(), what };
}

/**
 * CIFAR-10 (Krizhevsky 2009): 60,000 32×32×3 images in 10 classes, 50,000 for training and
 * 10,000 for test. Downloads the 163 MB binary archive once into the cache (MD5-verified,
 * written atomically) and decodes its records as they stream out of the gzip.
 */
export async function loadCifar10(options: Cifar10Options = {}): Promise<ImageDataset> {
  const split = checkSplit(options.split ?? 'train', ['train', 'test'] as const, 'loadCifar10');
  const members =
    split === 'train'
      ? [1, 2, 3, 4, 5].map((k) => `cifar-10-batches-bin/data_batch_${k}.bin`)
      : ['cifar-10-batches-bin/test_batch.bin'];
  const { records, what } = await readCifar(CIFAR10, 'loadCifar10', members, 1, options);
  return {
    name: `cifar10-${split}`,
    imageShape: [32, 32, 3],
    pixels: records.pixels,
    labels: checkedLabels(records.labels[0]!, 10, what),
    classNames: CIFAR10_CLASSES,
  };
}

/**
 * CIFAR-100: the same 32×32×3 format with 100 fine classes grouped into 20 coarse ones (each
 * record holds both labels, coarse first); 50,000 training and 10,000 test images.
 */
export async function loadCifar100(options: Cifar100Options = {}): Promise<ImageDataset> {
  const split = checkSplit(options.split ?? 'train', ['train', 'test'] as const, 'loadCifar100');
  const kind = checkSplit(
    options.labels ?? 'fine',
    ['fine', 'coarse'] as const,
    'loadCifar100 labels',
  );
  const members = [`cifar-100-binary/${split}.bin`];
  const { records, what } = await readCifar(CIFAR100, 'loadCifar100', members, 2, options);
  const classNames = kind === 'fine' ? CIFAR100_FINE : CIFAR100_COARSE;
  return {
    name: kind === 'fine' ? `cifar100-${split}` : `cifar100-coarse-${split}`,
    imageShape: [32, 32, 3],
    pixels: records.pixels,
    labels: checkedLabels(records.labels[kind === 'fine' ? 1 : 0]!, classNames.length, what),
    classNames,
  };
}
