import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EbmError, messageOf } from '../errors.js';

/** Names of the temp files writeFileAtomic creates: `.<target>.<12 hex>.tmp`. */
const TEMP_NAME = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

export interface WriteFileAtomicOptions {
  /** Who writes, for the error message ("saveOnnx", "EmbeddingIndex.save"). */
  caller?: string;
  /** Create missing parent directories (default true); false reports a missing one as IO. */
  createDirectory?: boolean;
}

/**
 * Writes a file so that readers see the old content or the new one, never a part, and the new
 * one survives a power cut once this resolves (as SQLite does it):
 *  1. write a uniquely named temp file in the target's directory and fsync it;
 *  2. rename it over the target (atomic within one file system);
 *  3. fsync the directory, so the rename itself is on disk.
 * On failure the temp file is removed and an EbmError with code IO names the path.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    if (options.createDirectory !== false) await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    await fsyncDirectory(dir);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const who = options.caller === undefined ? '' : `${options.caller}: `;
    throw new EbmError(
      'IO',
      `${who}cannot write "${path}": ${messageOf(error)}`,
      { path, errno: (error as NodeJS.ErrnoException).code },
      { cause: error },
    );
  }
}

/**
 * Flushes a directory's entries (a rename or a new file in it) to disk. Windows cannot open a
 * directory for fsync and its renames are durable on their own, so EPERM/EISDIR/EINVAL there
 * is not an error.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (
      process.platform === 'win32' &&
      (code === 'EPERM' || code === 'EISDIR' || code === 'EINVAL')
    )
      return;
    throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Removes temp files that writeFileAtomic left in `dir` when its process was killed between
 * creating and renaming them. Only files older than `olderThanMs` go, so a write in progress
 * in another process is left alone. Returns the names removed.
 */
export async function removeStaleTempFiles(dir: string, olderThanMs = 60_000): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  const now = Date.now();
  for (const name of names) {
    if (!TEMP_NAME.test(name)) continue;
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || !info.isFile() || now - info.mtimeMs < olderThanMs) continue;
    await rm(file, { force: true });
    removed.push(name);
  }
  return removed;
}
