import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import type { Storage } from './storage.js';

/** The only file that touches node:fs: a `Storage` over one directory with atomic writes. */
export function directoryStorage(dir: string): Storage {
  const ioError = (op: string, name: string, error: unknown) =>
    new EbmError(
      'IO',
      `Cannot ${op} ${join(dir, name)}: ${(error as Error).message}`,
      { path: join(dir, name) },
      { cause: error },
    );
  return {
    location: dir,
    async exists() {
      try {
        return (await stat(dir)).isDirectory();
      } catch {
        return false;
      }
    },
    async read(name) {
      try {
        const buf = await readFile(join(dir, name));
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw ioError('read', name, error);
      }
    },
    async write(name, data) {
      // Temp file in the same directory, fsync, then rename: rename is atomic on one file system.
      const tmp = join(dir, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await mkdir(dir, { recursive: true });
        const handle = await open(tmp, 'w');
        try {
          await handle.writeFile(data);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, join(dir, name));
      } catch (error) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw ioError('write', name, error);
      }
    },
    async list() {
      try {
        return await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw ioError('list', '', error);
      }
    },
    async remove(name) {
      try {
        await rm(join(dir, name), { force: true });
      } catch (error) {
        throw ioError('remove', name, error);
      }
    },
  };
}
