import { EbmError } from '@ebmjs/core';
import { downloadVerifiedFile } from './download.js';
import { defaultCacheDir } from './idx-source.js';
import { type TarEntry, type TarEntrySink, TarReader } from './tar.js';

/** Options of the loaders of datasets published as one .tar.gz (CIFAR, STL-10). */
export interface ArchiveLoadOptions {
  /** Keep only the first `limit` images of the split (in the files' order); reading stops there. */
  limit?: number;
  /**
   * Download cache: the archive is kept as `<cacheDir>/<dataset>/<archive file>` (put a copy you
   * downloaded yourself there). Default: $EBM_CACHE_DIR or ~/.cache/ebmjs/datasets.
   */
  cacheDir?: string;
  /** Base URLs the archive is downloaded from, tried in order (mirrors, a local server). */
  mirrors?: readonly string[];
  /** The archive's MD5. Default: the published one; set it for a mirror that re-packed the files. */
  md5?: string;
}

/** One published archive: the file, its MD5 and where it lives. */
export interface ArchiveSpec {
  readonly name: string;
  readonly file: string;
  readonly md5: string;
  readonly mirrors: readonly string[];
}

/** Checks the options shared by every archive loader, before anything is downloaded. */
export function checkArchiveOptions(options: ArchiveLoadOptions, caller: string): number {
  const { limit, md5 } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${caller}: limit must be a positive integer, received ${String(limit)}.`,
    );
  }
  if (md5 !== undefined && !/^[0-9a-f]{32}$/.test(md5)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${caller}: md5 must be 32 lowercase hex digits, received ${JSON.stringify(md5)}.`,
    );
  }
  return limit ?? Number.POSITIVE_INFINITY;
}

/** The split name if it is one of `splits`, else an INVALID_ARGUMENT error listing them. */
export function checkSplit<S extends string>(
  split: unknown,
  splits: readonly S[],
  caller: string,
): S {
  if (!splits.includes(split as S)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${caller}: split must be ${splits.map((s) => `'${s}'`).join(', ')}, received ${String(split)}.`,
    );
  }
  return split as S;
}

/** The verified archive in the cache, downloaded first when it is missing or corrupt. */
export async function fetchArchive(
  spec: ArchiveSpec,
  options: ArchiveLoadOptions,
): Promise<string> {
  const { join } = await import('node:path');
  const dir = join(options.cacheDir ?? (await defaultCacheDir()), spec.name);
  return downloadVerifiedFile({
    urls: (options.mirrors ?? spec.mirrors).map(
      (base) => `${base.replace(/\/$/, '')}/${spec.file}`,
    ),
    md5: options.md5 ?? spec.md5,
    path: join(dir, spec.file),
  });
}

/**
 * Streams a .tar.gz through gunzip and a tar reader, handing each member to `onEntry`'s sink,
 * and stops reading as soon as `isDone()` (the members wanted are in).
 */
export async function readTarGz(
  path: string,
  what: string,
  onEntry: (entry: TarEntry) => TarEntrySink | undefined,
  isDone: () => boolean,
): Promise<void> {
  const { createReadStream } = await import('node:fs');
  const { createGunzip } = await import('node:zlib');
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  file.on('error', (error) => gunzip.destroy(error));
  file.pipe(gunzip);
  const tar = new TarReader(what, onEntry);
  try {
    for await (const chunk of gunzip) {
      tar.write(chunk as Buffer);
      if (isDone() || tar.finished) return;
    }
  } catch (error) {
    if (error instanceof EbmError) throw error;
    throw new EbmError(
      'CORRUPT_FILE',
      `${what}: ${(error as Error).message}, expected a complete gzip file.`,
      { file: path },
      { cause: error },
    );
  } finally {
    file.destroy();
    gunzip.destroy();
  }
  tar.end();
}
