import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadVerified } from '../src/datasets/download.js';
import { batchIndices, imageBatch, parseIdx, take, trainTestSplit } from '../src/index.js';
import { imageFolder, loadFashionMnist, loadMnist } from '../src/node.js';

useCpuBackend();

const counts = (labels: Int32Array, k = 10) => {
  const c = new Array(k).fill(0);
  for (const l of labels) c[l]++;
  return c;
};

describe('loadMnist', () => {
  it('loads the 60k/10k splits offline with the published class counts', async () => {
    const train = await loadMnist({ source: 'package' });
    expect(train.imageShape).toEqual([28, 28, 1]);
    expect(train.pixels.length).toBe(60000 * 784);
    expect(counts(train.labels)).toEqual([
      5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]);
    const test = await loadMnist({ split: 'test' });
    expect(counts(test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const x = imageBatch(test, [0, 1]);
    expect(x.shape).toEqual([2, 28, 28, 1]);
    const values = x.dataSync();
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(Math.max(...values)).toBeGreaterThan(0.9);
    x.dispose();
  });

  it('rejects a bad split or source', async () => {
    await expect(loadMnist({ split: 'val' as 'train' })).rejects.toThrow(
      /split must be 'train' or 'test'/,
    );
    await expect(loadMnist({ source: 'ftp' as 'auto' })).rejects.toThrow(/source must be/);
  });
});

describe('loadFashionMnist', () => {
  it('makes a fixed stratified split from the npm package', async () => {
    const test = await loadFashionMnist({ split: 'test', source: 'package' });
    expect(test.classNames[9]).toBe('Ankle boot');
    expect(test.labels.length).toBe(10000);
    for (const c of counts(test.labels)) expect(c).toBeCloseTo(1000, -1);
    const again = await loadFashionMnist({ split: 'test', source: 'package' });
    expect(
      Buffer.from(again.pixels.subarray(0, 7840)).equals(
        Buffer.from(test.pixels.subarray(0, 7840)),
      ),
    ).toBe(true);
  });
});

describe('parseIdx', () => {
  it('reads shape and data and rejects truncated or foreign files', () => {
    const bytes = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const { shape, data } = parseIdx(bytes, 'x.idx');
    expect(shape).toEqual([2, 3]);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(bytes.subarray(0, 15), 'x.idx')).toThrow(
      /promises shape \[2, 3\] \(6 bytes\) but the file holds 3/,
    );
    expect(() => parseIdx(new Uint8Array([137, 80, 78, 71]), 'x.png')).toThrow(
      expect.objectContaining({ code: 'CORRUPT_FILE' }),
    );
  });
});

describe('downloadVerified', () => {
  const payload = new TextEncoder().encode('ebm.js dataset bytes');
  const md5 = createHash('md5').update(payload).digest('hex');
  let base = '';
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url === '/good/file.gz') res.end(payload);
    else if (req.url?.startsWith('/bad/')) res.end('tampered');
    else res.writeHead(404).end();
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('skips a mirror with a wrong checksum, caches the verified file and reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebm-dl-'));
    const path = join(dir, 'file.gz');
    const urls = [`${base}/missing/file.gz`, `${base}/bad/file.gz`, `${base}/good/file.gz`];
    const bytes = await downloadVerified({ urls, md5, path });
    expect(Buffer.from(bytes).equals(Buffer.from(payload))).toBe(true);
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(payload))).toBe(true);
    const before = hits;
    await downloadVerified({ urls, md5, path });
    expect(hits).toBe(before);
    // A corrupted cache entry is replaced, not trusted.
    await writeFile(path, 'corrupt');
    await downloadVerified({ urls: [`${base}/good/file.gz`], md5, path });
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(payload))).toBe(true);
  });

  it('fails with every reason when no mirror has verified bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebm-dl-'));
    const error = await downloadVerified({
      urls: [`${base}/bad/file.gz`, `${base}/nope/file.gz`],
      md5,
      path: join(dir, 'f.gz'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).message).toMatch(/checksum .*expected .*HTTP 404/);
  });

  it('is what loadMnist uses when asked to download', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebm-dl-'));
    // The local server holds no MNIST: the loader must report the failed checksum/404, not crash.
    await expect(
      loadMnist({ source: 'download', cacheDir: dir, mirrors: [`${base}/bad`] }),
    ).rejects.toThrow(/checksum/);
  });
});

describe('imageFolder', () => {
  it('reads class subfolders, resizes, and reports an undecodable file by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ebm-folder-'));
    for (const [name, colour] of [
      ['cats', { r: 255, g: 0, b: 0 }],
      ['dogs', { r: 0, g: 0, b: 255 }],
    ] as const) {
      await mkdir(join(dir, name));
      for (let i = 0; i < 2; i++) {
        const image = sharp({
          create: { width: 20 + i * 10, height: 12, channels: 3, background: colour },
        });
        await image.toFile(join(dir, name, `${i}.${i === 0 ? 'png' : 'jpg'}`));
      }
    }
    await writeFile(join(dir, 'dogs', 'notes.txt'), 'not an image, ignored by extension');
    const ds = await imageFolder(dir, { size: 8 });
    expect(ds.classNames).toEqual(['cats', 'dogs']);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 1]);
    expect(ds.imageShape).toEqual([8, 8, 3]);
    expect(Array.from(ds.pixels.subarray(0, 3))).toEqual([255, 0, 0]);
    const last = ds.pixels.subarray(3 * 192, 3 * 192 + 3);
    expect(last[2]).toBeGreaterThan(240);
    expect(last[0]).toBeLessThan(15);
    const gray = await imageFolder(dir, { size: 4, channels: 1 });
    expect(gray.pixels.length).toBe(4 * 16);

    await writeFile(join(dir, 'dogs', 'broken.png'), 'definitely not a png');
    await expect(imageFolder(dir)).rejects.toThrow(/broken\.png is not a readable image/);
    expect((await imageFolder(dir, { onError: 'skip' })).labels.length).toBe(4);
    await expect(imageFolder(join(dir, 'nope'))).rejects.toThrow(
      expect.objectContaining({ code: 'IO' }),
    );
  });
});

describe('splits and batches', () => {
  it('splits by class with a seed and batches without repeats', async () => {
    const ds = take(await loadMnist({ split: 'test' }), 1000);
    const { train, test } = trainTestSplit(ds, { testFraction: 0.25, seed: 1 });
    expect(train.labels.length + test.labels.length).toBe(1000);
    const all = counts(ds.labels);
    counts(test.labels).forEach((c, k) =>
      expect(Math.abs(c - all[k]! * 0.25)).toBeLessThanOrEqual(0.5),
    );
    const batches = [...batchIndices(10, { batchSize: 4, seed: 3 })];
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(new Set(batches.flatMap((b) => Array.from(b))).size).toBe(10);
    expect([...batchIndices(10, { batchSize: 4, dropLast: true })].length).toBe(2);
    expect([...batchIndices(5, { batchSize: 5, shuffle: false })][0]).toEqual(
      Int32Array.from([0, 1, 2, 3, 4]),
    );
  });
});
