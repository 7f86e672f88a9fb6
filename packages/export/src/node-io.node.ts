// `#node-io` in Node: the file writers (saveOnnx, writeTritonRepository) on the local file system.
import { readFile } from 'node:fs/promises';

export { join as joinPath } from 'node:path';
export { writeFileAtomic } from '@ebmjs/contract/node';

/** The bytes of the file at `path`. */
export const readBytes = async (path: string): Promise<Uint8Array> =>
  new Uint8Array(await readFile(path));
