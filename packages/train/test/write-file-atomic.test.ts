import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebm-atomic-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates missing directories and replaces an existing file, leaving no temp file', async () => {
    const path = join(dir, 'nested', 'a.json');
    await writeFileAtomic(path, '{"v":1}');
    await writeFileAtomic(path, new Uint8Array([123, 125]));
    expect(await readFile(path, 'utf8')).toBe('{}');
    expect(await readdir(join(dir, 'nested'))).toEqual(['a.json']);
  });

  it('throws EbmError IO and removes its temp file when the target cannot be replaced', async () => {
    // The target is a non-empty directory: writing the temp file works, the rename fails.
    const target = join(dir, 'occupied');
    await writeFileAtomic(join(target, 'inside.txt'), 'x');
    const error = await writeFileAtomic(target, 'data').catch((e) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect(error.code).toBe('IO');
    expect(error.message).toContain(target);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
