import { stat } from 'node:fs/promises';
import { type ImageDataset, imageFolder, loadFashionMnist, loadMnist, take } from '@ebmjs/train';
import { loadCifar10, loadCifar100, loadStl10 } from '@ebmjs/train/node';
import { CliUsageError } from './usage-error.js';

/** `mnist`, `fashion-mnist`, `cifar10`, `cifar100`, `stl10` or a directory with one subfolder per class. */
export async function resolveDataset(
  name: string,
  split: 'train' | 'test',
  limit?: number,
): Promise<ImageDataset> {
  let ds: ImageDataset;
  if (name === 'mnist') ds = await loadMnist({ split });
  else if (name === 'fashion-mnist') ds = await loadFashionMnist({ split });
  // CIFAR-100 with its 100 fine classes; STL-10's labelled 5,000/8,000 (loadStl10 has the rest).
  else if (name === 'cifar10') ds = await loadCifar10({ split });
  else if (name === 'cifar100') ds = await loadCifar100({ split });
  else if (name === 'stl10') ds = await loadStl10({ split });
  else {
    const info = await stat(name).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new CliUsageError(
        `--dataset must be mnist, fashion-mnist, cifar10, cifar100, stl10 or a directory of class folders; "${name}" is none of them.`,
      );
    }
    // An image folder has no split of its own: train and test both read the whole folder.
    ds = await imageFolder(name);
  }
  return limit === undefined ? ds : take(ds, limit, 0);
}
