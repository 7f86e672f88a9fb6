import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectImageFiles,
  embedFiles,
  FeatureExtractor,
  toNpy,
  writeEmbeddings,
} from '../src/index.node.js';
import { FIXTURES, l2, modelPath, reference, worstDiff } from './helpers.js';

let dir: string;
let fx: FeatureExtractor;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'web-infer-embed-'));
  await cp(join(FIXTURES, 'query'), join(dir, 'images', 'query'), { recursive: true });
  await writeFile(join(dir, 'images', 'README.txt'), 'not an image');
  await writeFile(join(dir, 'images', 'broken.png'), 'not a png either');
  fx = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), {
    device: 'cpu',
    threads: 1,
    batchSize: 3,
  });
});
afterAll(async () => {
  await fx.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('the Node helpers behind `ebm embed`', () => {
  it('collectImageFiles walks directories for image extensions, sorted; explicit files are kept', async () => {
    const files = await collectImageFiles([
      join(dir, 'images'),
      join(FIXTURES, 'gallery', 'dots-0.png'),
    ]);
    expect(files.map((f) => f.slice(dir.length))).toEqual([
      '/images/broken.png',
      '/images/query/circle.png',
      '/images/query/ring.png',
      '/images/query/square-48x40.png',
      '/images/query/triangle-20x20.png',
      join(FIXTURES, 'gallery', 'dots-0.png').slice(dir.length),
    ]);
    await expect(collectImageFiles([join(dir, 'nope')])).rejects.toMatchObject({ code: 'IO' });
  });

  it('embedFiles: onError skip records the bad file and embeds the rest; throw stops', async () => {
    const files = await collectImageFiles([join(dir, 'images')]);
    const progress: number[] = [];
    const { rows, failed } = await embedFiles(fx, files, {
      onError: 'skip',
      onProgress: (done) => progress.push(done),
    });
    expect(failed.map((f) => f.path)).toEqual([join(dir, 'images', 'broken.png')]);
    expect(failed[0]!.error.message).toMatch(/not an image/);
    expect(progress).toEqual([3, 5]);
    const names = rows.map((r) => `query/${r.path.split('/').pop()}`);
    expect(
      worstDiff(
        rows.map((r) => r.embedding),
        names.map((n) => l2(reference.embeddings['conv-rgb-nchw']![n]!)),
      ),
    ).toBeLessThanOrEqual(1e-4);
    await expect(embedFiles(fx, files)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('writeEmbeddings: .jsonl lines and a .npy matrix with its paths file', async () => {
    const rows = [
      { path: 'a.png', embedding: Float32Array.from([0.6, 0.8]) },
      { path: 'b.png', embedding: Float32Array.from([1, 0]) },
    ];
    const jsonl = join(dir, 'out', 'e.jsonl');
    expect(await writeEmbeddings(jsonl, rows)).toEqual([jsonl]);
    const lines = (await readFile(jsonl, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { path: 'a.png', embedding: [Math.fround(0.6), Math.fround(0.8)] },
      { path: 'b.png', embedding: [1, 0] },
    ]);
    const npy = join(dir, 'out', 'e.npy');
    expect(await writeEmbeddings(npy, rows)).toEqual([npy, join(dir, 'out', 'e.paths.txt')]);
    const bytes = await readFile(npy);
    expect(bytes.subarray(0, 6)).toEqual(Buffer.from([0x93, ...Buffer.from('NUMPY')]));
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLength).toString()).toMatch(
      /'descr': '<f4', 'fortran_order': False, 'shape': \(2, 2\)/,
    );
    const data = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + 10 + headerLength, bytes.byteOffset + bytes.length),
    );
    expect(Array.from(data)).toEqual([Math.fround(0.6), Math.fround(0.8), 1, 0]);
    expect(await readFile(join(dir, 'out', 'e.paths.txt'), 'utf8')).toBe('a.png\nb.png\n');
    await expect(writeEmbeddings(join(dir, 'e.csv'), rows)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(() => toNpy([[1, 2], [3]])).toThrow(/row 1 has 1 values/);
  });
});
