import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { resolveOptions } from '@ebmjs/contract';
import { writeFileAtomic } from '@ebmjs/contract/node';
import { readSignal, throwIfAborted } from './abort.js';
import { describe, EbmError, isEbmError, messageOf } from './errors.js';
import type { FeatureExtractor } from './feature-extractor.node.js';
import { toNpy } from './npy.js';

/** Extensions `collectImageFiles` picks up in directories (the formats sharp decodes). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.gif',
  '.avif',
  '.tif',
  '.tiff',
];

/**
 * Expands files and directories into a sorted list of image files: directories are walked
 * (recursively by default) for IMAGE_EXTENSIONS; files named explicitly are kept as given.
 */
export async function collectImageFiles(
  inputs: readonly string[],
  options: { recursive?: boolean } = {},
): Promise<string[]> {
  const recursive = options.recursive ?? true;
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive) await walk(path);
      } else if (IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push(path);
    }
  };
  for (const input of inputs) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(input);
    } catch (error) {
      throw new EbmError('IO', `Cannot read "${input}": ${messageOf(error)}`, {
        path: input,
      });
    }
    if (info.isDirectory()) await walk(input);
    else out.push(input);
  }
  return out;
}

export interface EmbeddedFile {
  path: string;
  embedding: Float32Array;
}

export interface EmbedFilesOptions {
  /** 'throw' (default) stops at the first file that fails; 'skip' records it and goes on. */
  onError?: 'throw' | 'skip';
  /** Called after each batch with the number of files done and the total. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Stops the run: checked before each batch and before each file retried alone; the batch
   * running finishes, then embedFiles rejects with ABORTED ("aborted after 3 of 10 files").
   */
  signal?: AbortSignal;
}

export interface EmbedFilesResult {
  /** One row per embedded file, in input order. */
  rows: EmbeddedFile[];
  /** Files that failed (only with onError: 'skip'). */
  failed: { path: string; error: Error }[];
}

/**
 * Embeds image files batch by batch (what `ebm embed` runs). With onError 'skip', a batch that
 * fails is retried file by file so one bad file costs only itself.
 */
export async function embedFiles(
  extractor: FeatureExtractor,
  paths: readonly string[],
  options: EmbedFilesOptions = {},
): Promise<EmbedFilesResult> {
  const resolved = resolveOptions('embedFiles', options, {
    onError: 'throw',
    onProgress: undefined,
    signal: undefined,
  });
  const { onError, onProgress } = resolved;
  const signal = readSignal('embedFiles', resolved.signal);
  if (onError !== 'throw' && onError !== 'skip') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `embedFiles: option "onError" must be "throw" or "skip", received ${describe(onError)}.`,
      { option: 'onError', received: onError },
    );
  }
  const rows: EmbeddedFile[] = [];
  const failed: { path: string; error: Error }[] = [];
  const step = extractor.batchSize;
  // Files finished (embedded or failed), for the abort message.
  const aborted = () =>
    throwIfAborted(signal, 'embedFiles', rows.length + failed.length, paths.length, 'files');
  for (let start = 0; start < paths.length; start += step) {
    aborted();
    const chunk = paths.slice(start, start + step);
    try {
      // No signal passed down: one batch is the unit of work, so a batch runs whole or not at all.
      const embeddings = await extractor.extract(chunk);
      chunk.forEach((path, i) => rows.push({ path, embedding: embeddings[i]! }));
    } catch (error) {
      if (onError === 'throw' || !isEbmError(error) || error.code === 'DISPOSED') throw error;
      for (const path of chunk) {
        aborted();
        try {
          rows.push({ path, embedding: await extractor.extract(path) });
        } catch (e) {
          if (!isEbmError(e) || e.code === 'DISPOSED') throw e;
          failed.push({ path, error: e });
        }
      }
    }
    onProgress?.(Math.min(start + step, paths.length), paths.length);
  }
  return { rows, failed };
}

/**
 * Writes embeddings atomically: `.jsonl` (one `{"path", "embedding"}` object per line) or `.npy`
 * (a float32 [files, dim] matrix, with the file paths in row order in `<name>.paths.txt` beside
 * it). Returns the files written.
 */
export async function writeEmbeddings(
  out: string,
  rows: readonly EmbeddedFile[],
): Promise<string[]> {
  const ext = extname(out).toLowerCase();
  if (ext === '.jsonl') {
    const text = rows
      .map((r) => JSON.stringify({ path: r.path, embedding: Array.from(r.embedding) }))
      .join('\n');
    await writeFileAtomic(out, rows.length === 0 ? '' : `${text}\n`);
    return [out];
  }
  if (ext === '.npy') {
    const paths = `${out.slice(0, -ext.length)}.paths.txt`;
    await writeFileAtomic(out, toNpy(rows.map((r) => r.embedding)));
    await writeFileAtomic(paths, rows.map((r) => `${r.path}\n`).join(''));
    return [out, paths];
  }
  throw new EbmError(
    'INVALID_ARGUMENT',
    `writeEmbeddings: output "${out}" must end in .jsonl or .npy.`,
    { path: out, expected: ['.jsonl', '.npy'], received: ext },
  );
}
