import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@ebmjs/contract/node';
import { EmbeddingIndex as BaseEmbeddingIndex } from './embedding-index.js';
import { EbmError, messageOf } from './errors.js';

/** EmbeddingIndex with atomic file save and load (Node). */
export class EmbeddingIndex extends BaseEmbeddingIndex {
  /** Writes the index to `path` atomically (temp file + rename). */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, this.toBytes());
  }

  /** Reads an index written by `save`. */
  static async load(path: string): Promise<EmbeddingIndex> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new EbmError(
        'IO',
        `Cannot read index file "${path}": ${messageOf(error)}`,
        { path, errno: (error as NodeJS.ErrnoException).code },
        { cause: error },
      );
    }
    return EmbeddingIndex.fromBytes(bytes, `"${path}"`);
  }
}
