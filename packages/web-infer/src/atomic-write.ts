import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { messageOf, WebInferError } from './errors.js';

/**
 * Writes a file atomically: a temp file in the same directory, flushed, then renamed over the
 * target, so a crash or a full disk never leaves a half-written file behind.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new WebInferError(
      'IO',
      `Cannot write "${path}": ${messageOf(error)}`,
      { path, errno: (error as NodeJS.ErrnoException).code },
      { cause: error },
    );
  }
}
