import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isEbmError } from '../src/index.js';
import { fsyncDirectory, removeStaleTempFiles, writeFileAtomic } from '../src/node/index.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, open: vi.fn(actual.open), rename: vi.fn(actual.rename) };
});
const fsp = await import('node:fs/promises');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebm-atomic-'));
});
afterEach(async () => {
  vi.mocked(fsp.open).mockClear();
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes, replaces, creates parent directories and leaves nothing else behind', async () => {
    const path = join(dir, 'a', 'b', 'file.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, 'text');
    expect(await readFile(path, 'utf8')).toBe('text');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['file.bin']);
  });

  it('flushes the directory after the rename (the rename itself is durable)', async () => {
    const path = join(dir, 'file.txt');
    await writeFileAtomic(path, 'x');
    const opened = vi.mocked(fsp.open).mock.calls.map((c) => String(c[0]));
    // The temp file, then the directory, in that order.
    expect(opened).toHaveLength(2);
    expect(opened[0]).toMatch(/\.file\.txt\.[0-9a-f]{12}\.tmp$/);
    expect(opened[1]).toBe(dir);
  });

  it('a failed rename keeps the old file, removes the temp file and reports IO', async () => {
    const path = join(dir, 'file.txt');
    await writeFile(path, 'old');
    vi.mocked(fsp.rename).mockRejectedValueOnce(
      Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' }),
    );
    const error = await writeFileAtomic(path, 'new', { caller: 'save' }).catch((e) => e);
    expect(isEbmError(error, 'IO')).toBe(true);
    expect(error.message).toBe(
      `save: cannot write "${path}": EXDEV: cross-device link not permitted`,
    );
    expect(error.details).toMatchObject({ path, errno: 'EXDEV' });
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['file.txt']);
  });

  it('createDirectory: false reports a missing directory as IO', async () => {
    const path = join(dir, 'missing', 'file.txt');
    const error = await writeFileAtomic(path, 'x', { createDirectory: false }).catch((e) => e);
    expect(isEbmError(error, 'IO')).toBe(true);
    expect(error.details.errno).toBe('ENOENT');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fsyncDirectory fails loudly for a directory that does not exist', async () => {
    await expect(fsyncDirectory(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('removeStaleTempFiles', () => {
  it('removes only old temp files of writeFileAtomic', async () => {
    await mkdir(dir, { recursive: true });
    const stale = '.model.onnx.0123456789ab.tmp';
    const fresh = '.model.onnx.ba9876543210.tmp';
    for (const name of [stale, fresh, 'model.onnx', '.hidden.tmp', 'x.0123456789ab.tmp'])
      await writeFile(join(dir, name), 'x');
    const old = new Date(Date.now() - 3_600_000);
    for (const name of [stale, '.hidden.tmp', 'x.0123456789ab.tmp'])
      await utimes(join(dir, name), old, old);
    expect(await removeStaleTempFiles(dir)).toEqual([stale]);
    expect((await readdir(dir)).sort()).toEqual(
      ['.hidden.tmp', fresh, 'model.onnx', 'x.0123456789ab.tmp'].sort(),
    );
    expect(await removeStaleTempFiles(join(dir, 'missing'))).toEqual([]);
  });
});
