import { stat } from 'node:fs/promises';
import { type ImageDataset, imageFolder, loadFashionMnist, loadMnist, take } from '@ebmjs/train';
import { CliUsageError } from './usage-error.js';

/** `mnist`, `fashion-mnist`, or a directory with one subfolder per class. */
export async function resolveDataset(
  name: string,
  split: 'train' | 'test',
  limit?: number,
): Promise<ImageDataset> {
  let ds: ImageDataset;
  if (name === 'mnist') ds = await loadMnist({ split });
  else if (name === 'fashion-mnist') ds = await loadFashionMnist({ split });
  else {
    const info = await stat(name).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new CliUsageError(
        `--dataset must be mnist, fashion-mnist or a directory of class folders; "${name}" is none of them.`,
      );
    }
    // An image folder has no split of its own: train and test both read the whole folder.
    ds = await imageFolder(name);
  }
  return limit === undefined ? ds : take(ds, limit, 0);
}
