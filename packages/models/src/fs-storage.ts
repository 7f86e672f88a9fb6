import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/contract';
import { writeFileAtomic } from '@ebmjs/contract/node';
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
      await writeFileAtomic(join(dir, name), data);
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
