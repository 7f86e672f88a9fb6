import { EbmError } from '@ebmjs/core';

/**
 * Writes a file so that readers see the old content or the new one, never a part: a uniquely
 * named temp file in the same directory, flushed to disk, then renamed over the target (rename is
 * atomic within one file system). On failure the temp file is removed and an EbmError with code
 * IO names the path. node:fs is imported on first use, so the package still bundles for browsers.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await import('node:fs/promises');
  const { basename, dirname, join } = await import('node:path');
  const { randomBytes } = await import('node:crypto');
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.mkdir(dir, { recursive: true });
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new EbmError(
      'IO',
      `Cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { path },
      { cause: error },
    );
  }
}
