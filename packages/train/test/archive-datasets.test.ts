// CIFAR-10/100 and STL-10 decoders on generated files in the official binary formats. The
// archives sit in the cache directory already (with their own MD5), so nothing is downloaded.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EbmError } from '@ebmjs/core';
import { describe, expect, it } from 'vitest';
import { planarToHwc, RecordSplit } from '../src/datasets/record-split.js';
import { TarReader } from '../src/datasets/tar.js';
import { loadCifar10, loadCifar100, loadStl10 } from '../src/node.js';
import { cifarRecords, md5, pixel, stlImages, tarArchive, tarGz } from './fixtures/archives.js';

/** Puts `archive` where the loader's cache keeps `file` and returns the loader options. */
async function cached(dataset: string, file: string, archive: Uint8Array) {
  const cacheDir = await mkdtemp(join(tmpdir(), 'ebm-archive-'));
  await mkdir(join(cacheDir, dataset));
  await writeFile(join(cacheDir, dataset, file), archive);
  return { cacheDir, md5: md5(archive), mirrors: [] };
}

const at = (
  ds: { pixels: Uint8Array; imageShape: readonly number[] },
  i: number,
  y: number,
  x: number,
  c: number,
) => {
  const [h, w, ch] = ds.imageShape as [number, number, number];
  return ds.pixels[((i * h + y) * w + x) * ch + c];
};

const records = (n: number, label: (i: number) => number[]) =>
  Array.from({ length: n }, (_, i) => label(i));

describe('CIFAR records', () => {
  it('place each planar (c, y, x) byte at HWC (y, x, c), checked at hand-picked pixels', async () => {
    // One record, zero but for three marked bytes: red (0, 1), green (2, 0), blue (31, 30).
    const record = new Uint8Array(1 + 3072);
    record[0] = 7; // "horse"
    record[1 + 0 * 1024 + 0 * 32 + 1] = 11;
    record[1 + 1 * 1024 + 2 * 32 + 0] = 22;
    record[1 + 2 * 1024 + 31 * 32 + 30] = 33;
    const archive = tarGz([{ name: 'cifar-10-batches-bin/test_batch.bin', data: record }]);
    const ds = await loadCifar10({
      split: 'test',
      ...(await cached('cifar10', 'cifar-10-binary.tar.gz', archive)),
    });
    expect(ds.imageShape).toEqual([32, 32, 3]);
    expect(ds.name).toBe('cifar10-test');
    expect(Array.from(ds.labels)).toEqual([7]);
    expect(ds.classNames[7]).toBe('horse');
    expect(ds.pixels[(0 * 32 + 1) * 3 + 0]).toBe(11);
    expect(ds.pixels[(2 * 32 + 0) * 3 + 1]).toBe(22);
    expect(ds.pixels[(31 * 32 + 30) * 3 + 2]).toBe(33);
    expect(ds.pixels.reduce((a, b) => a + b, 0)).toBe(66);
  });

  it('reads CIFAR-10 training batches in batch order whatever the archive order, and a limit', async () => {
    const batch = (k: number) => ({
      name: `cifar-10-batches-bin/data_batch_${k}.bin`,
      data: cifarRecords(
        records(3, (i) => [(3 * (k - 1) + i) % 10]),
        3 * (k - 1),
      ),
    });
    // The official archive does not list its batches in order either.
    const archive = tarGz([
      {
        name: 'cifar-10-batches-bin/batches.meta.txt',
        data: new TextEncoder().encode('airplane\n'),
      },
      batch(4),
      batch(1),
      { name: 'cifar-10-batches-bin/test_batch.bin', data: cifarRecords([[9]], 99) },
      batch(3),
      batch(5),
      batch(2),
    ]);
    const options = await cached('cifar10', 'cifar-10-binary.tar.gz', archive);
    const train = await loadCifar10(options);
    expect(train.labels.length).toBe(15);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
    for (let i = 0; i < 15; i++) {
      for (const [y, x] of [
        [0, 0],
        [5, 17],
        [31, 31],
      ] as const)
        for (let c = 0; c < 3; c++) expect(at(train, i, y, x, c)).toBe(pixel(i, c, y, x));
    }
    const first = await loadCifar10({ ...options, limit: 5 });
    expect(Array.from(first.labels)).toEqual([0, 1, 2, 3, 4]);
    expect(Buffer.from(first.pixels).equals(Buffer.from(train.pixels.subarray(0, 5 * 3072)))).toBe(
      true,
    );
    const test = await loadCifar10({ ...options, split: 'test' });
    expect(Array.from(test.labels)).toEqual([9]);
    expect(at(test, 0, 3, 4, 2)).toBe(pixel(99, 2, 3, 4));
  });

  it('reads CIFAR-100 coarse and fine labels (coarse first in each record)', async () => {
    const labels = [
      [4, 30], // aquatic mammals: dolphin
      [19, 85], // vehicles 2: tank
      [0, 55], // aquatic mammals: otter
    ];
    const archive = tarGz([
      { name: 'cifar-100-binary/fine_label_names.txt', data: new Uint8Array(3) },
      { name: 'cifar-100-binary/train.bin', data: cifarRecords(labels) },
    ]);
    const options = await cached('cifar100', 'cifar-100-binary.tar.gz', archive);
    const fine = await loadCifar100(options);
    expect(Array.from(fine.labels)).toEqual([30, 85, 55]);
    expect(fine.classNames.length).toBe(100);
    expect([30, 85, 55].map((l) => fine.classNames[l])).toEqual(['dolphin', 'tank', 'otter']);
    const coarse = await loadCifar100({ ...options, labels: 'coarse' });
    expect(Array.from(coarse.labels)).toEqual([4, 19, 0]);
    expect(coarse.classNames.length).toBe(20);
    expect(coarse.classNames[4]).toBe('fruit_and_vegetables');
    expect(coarse.name).toBe('cifar100-coarse-train');
    expect(at(coarse, 2, 10, 20, 1)).toBe(pixel(2, 1, 10, 20));
    // The test split is another member the archive lacks.
    await expect(loadCifar100({ ...options, split: 'test' })).rejects.toThrow(
      /lacks cifar-100-binary\/test\.bin/,
    );
  });

  it('rejects corrupt records, labels and archives with CORRUPT_FILE', async () => {
    const bad = async (data: Uint8Array) =>
      loadCifar10({
        split: 'test',
        ...(await cached(
          'cifar10',
          'cifar-10-binary.tar.gz',
          tarGz([{ name: 'cifar-10-batches-bin/test_batch.bin', data }]),
        )),
      }).catch((e: unknown) => e);
    const short = await bad(cifarRecords([[1], [2]]).subarray(0, 3073 + 100));
    expect(short).toMatchObject({ code: 'CORRUPT_FILE' });
    expect((short as Error).message).toMatch(
      /holds 3173 bytes, expected a multiple of its 3073-byte records/,
    );
    expect(await bad(cifarRecords([[3], [10]]))).toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringMatching(/record 1 has label 10, expected 0 to 9/),
    });
    // A gzip cut in half, and a tar cut inside a member (gzipped whole).
    const tar = tarArchive([
      { name: 'cifar-10-batches-bin/test_batch.bin', data: cifarRecords([[1], [2]]) },
    ]);
    const gz = new Uint8Array(gzipSync(tar));
    const halfGz = gz.subarray(0, gz.length >> 1);
    const cutGz = await loadCifar10({
      split: 'test',
      ...(await cached('cifar10', 'cifar-10-binary.tar.gz', halfGz)),
    }).catch((e: unknown) => e);
    expect(cutGz).toBeInstanceOf(EbmError);
    expect(cutGz).toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringMatching(/expected a complete gzip file/),
    });
    const cutTar = new Uint8Array(gzipSync(tar.subarray(0, 512 + 4000)));
    const cut = await loadCifar10({
      split: 'test',
      ...(await cached('cifar10', 'cifar-10-binary.tar.gz', cutTar)),
    }).catch((e: unknown) => e);
    expect(cut).toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringMatching(/ends inside cifar-10-batches-bin\/test_batch\.bin/),
    });
    const notTar = new Uint8Array(gzipSync(new Uint8Array(1024).fill(65)));
    const foreign = await loadCifar10({
      split: 'test',
      ...(await cached('cifar10', 'cifar-10-binary.tar.gz', notTar)),
    }).catch((e: unknown) => e);
    expect(foreign).toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringMatching(/tar header checksum/),
    });
  });

  it('rejects bad options before touching the network', async () => {
    const offline = { mirrors: ['http://127.0.0.1:9/never'], cacheDir: tmpdir() };
    await expect(loadCifar10({ ...offline, split: 'val' as 'train' })).rejects.toThrow(
      /split must be 'train', 'test', received val/,
    );
    await expect(loadCifar100({ ...offline, labels: 'medium' as 'fine' })).rejects.toThrow(
      /must be 'fine', 'coarse'/,
    );
    await expect(loadStl10({ ...offline, limit: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadStl10({ ...offline, md5: 'abc' })).rejects.toThrow(
      /md5 must be 32 lowercase hex digits/,
    );
  });
});

describe('STL-10', () => {
  const stlArchive = () =>
    tarGz([
      { name: 'stl10_binary/class_names.txt', data: new TextEncoder().encode('airplane\nbird\n') },
      { name: 'stl10_binary/unlabeled_X.bin', data: stlImages(3, 100) },
      { name: 'stl10_binary/test_X.bin', data: stlImages(2, 50) },
      { name: 'stl10_binary/test_y.bin', data: new Uint8Array([10, 1]) },
      { name: 'stl10_binary/train_y.bin', data: new Uint8Array([1, 8, 3, 10]) },
      { name: 'stl10_binary/train_X.bin', data: stlImages(4) },
    ]);

  it('places column-major planes at HWC (y, x, c), checked at hand-picked pixels', async () => {
    const image = new Uint8Array(27648);
    image[0 * 9216 + 1 * 96 + 0] = 11; // red, y 0, x 1: the second column's first byte
    image[1 * 9216 + 0 * 96 + 2] = 22; // green, y 2, x 0
    image[2 * 9216 + 94 * 96 + 95] = 33; // blue, y 95, x 94
    const archive = tarGz([
      { name: 'stl10_binary/test_X.bin', data: image },
      { name: 'stl10_binary/test_y.bin', data: new Uint8Array([8]) },
    ]);
    const ds = await loadStl10({
      split: 'test',
      ...(await cached('stl10', 'stl10_binary.tar.gz', archive)),
    });
    expect(ds.imageShape).toEqual([96, 96, 3]);
    expect(Array.from(ds.labels)).toEqual([7]); // labels 1..10 become 0..9
    expect(ds.classNames[7]).toBe('monkey');
    expect(ds.pixels[(0 * 96 + 1) * 3 + 0]).toBe(11);
    expect(ds.pixels[(2 * 96 + 0) * 3 + 1]).toBe(22);
    expect(ds.pixels[(95 * 96 + 94) * 3 + 2]).toBe(33);
    expect(ds.pixels.reduce((a, b) => a + b, 0)).toBe(66);
  });

  it('reads train, test, unlabeled and train+unlabeled, labels −1 for the unlabelled images', async () => {
    const options = await cached('stl10', 'stl10_binary.tar.gz', stlArchive());
    const train = await loadStl10(options);
    expect(train.name).toBe('stl10-train');
    expect(Array.from(train.labels)).toEqual([0, 7, 2, 9]);
    for (let i = 0; i < 4; i++) expect(at(train, i, 40, 3, 1)).toBe(pixel(i, 1, 40, 3));
    const test = await loadStl10({ ...options, split: 'test' });
    expect(Array.from(test.labels)).toEqual([9, 0]);
    expect(at(test, 1, 95, 0, 2)).toBe(pixel(51, 2, 95, 0));
    const unlabeled = await loadStl10({ ...options, split: 'unlabeled' });
    expect(Array.from(unlabeled.labels)).toEqual([-1, -1, -1]);
    expect(at(unlabeled, 2, 7, 90, 0)).toBe(pixel(102, 0, 7, 90));
    const both = await loadStl10({ ...options, split: 'train+unlabeled' });
    expect(Array.from(both.labels)).toEqual([0, 7, 2, 9, -1, -1, -1]);
    for (const [i, source] of [
      [0, 0],
      [3, 3],
      [4, 100],
      [6, 102],
    ] as const)
      expect(at(both, i, 12, 34, 2)).toBe(pixel(source, 2, 12, 34));
    const some = await loadStl10({ ...options, split: 'train+unlabeled', limit: 5 });
    expect(Array.from(some.labels)).toEqual([0, 7, 2, 9, -1]);
    expect(Buffer.from(some.pixels).equals(Buffer.from(both.pixels.subarray(0, 5 * 27648)))).toBe(
      true,
    );
  });

  it('reports labels that do not match the images, and labels outside 1..10', async () => {
    const mismatch = tarGz([
      { name: 'stl10_binary/train_X.bin', data: stlImages(2) },
      { name: 'stl10_binary/train_y.bin', data: new Uint8Array([1, 2, 3]) },
    ]);
    await expect(loadStl10(await cached('stl10', 'stl10_binary.tar.gz', mismatch))).rejects.toThrow(
      /holds 3 labels, expected one per image \(2\)/,
    );
    const zero = tarGz([
      { name: 'stl10_binary/test_X.bin', data: stlImages(1) },
      { name: 'stl10_binary/test_y.bin', data: new Uint8Array([0]) },
    ]);
    await expect(
      loadStl10({ split: 'test', ...(await cached('stl10', 'stl10_binary.tar.gz', zero)) }),
    ).rejects.toThrow(/record 0 has label 0, expected 1 to 10/);
  });
});

describe('the streaming decoder', () => {
  it('gives the same records for any chunking of the archive, and stops at the limit', () => {
    const tar = tarArchive([
      {
        name: 'b.bin',
        data: cifarRecords(
          records(3, (i) => [i, 9 - i]),
          3,
        ),
      },
      { name: 'skip.txt', data: new Uint8Array(700).fill(1) },
      {
        name: 'a.bin',
        data: cifarRecords(
          records(3, (i) => [i, i]),
          0,
        ),
      },
    ]);
    const decode = (sizes: number[], limit?: number) => {
      const split = new RecordSplit(
        't',
        ['a.bin', 'b.bin'],
        { labelBytes: 2, layout: planarToHwc(32, 32, 3, 'row-major') },
        limit,
      );
      const reader = new TarReader('t', (e) => split.sinkFor(e));
      let fed = 0;
      for (let k = 0; fed < tar.length && !split.done; k++) {
        const n = sizes[k % sizes.length]!;
        reader.write(tar.subarray(fed, fed + n));
        fed += n;
      }
      return { ...split.result(), fed };
    };
    const whole = decode([tar.length]);
    expect(whole.count).toBe(6);
    expect(Array.from(whole.labels[1]!)).toEqual([0, 1, 2, 9, 8, 7]);
    for (const sizes of [[1], [7, 511], [513, 3], [3075]]) {
      const again = decode(sizes);
      expect(Buffer.from(again.pixels).equals(Buffer.from(whole.pixels))).toBe(true);
      expect(Array.from(again.labels[0]!)).toEqual(Array.from(whole.labels[0]!));
    }
    // a.bin comes last in the archive but first in the split: a limit inside it ends reading there.
    const two = decode([100], 2);
    expect(two.count).toBe(2);
    expect(Buffer.from(two.pixels).equals(Buffer.from(whole.pixels.subarray(0, 2 * 3072)))).toBe(
      true,
    );
    expect(two.fed).toBeLessThan(tar.length - 3072);
  });

  it('reads archives that GNU tar writes, long names included', async () => {
    let version = '';
    try {
      version = execFileSync('tar', ['--version'], { encoding: 'utf8' });
    } catch {
      return; // no tar on this machine
    }
    if (!version.includes('GNU tar')) return;
    const dir = await mkdtemp(join(tmpdir(), 'ebm-gnutar-'));
    const inner = join(dir, 'cifar-10-batches-bin');
    await mkdir(inner);
    await writeFile(join(inner, 'test_batch.bin'), cifarRecords([[5], [6]], 40));
    await writeFile(
      join(inner, `${'a-very-long-file-name-'.repeat(8)}.txt`),
      'needs a GNU long-name header',
    );
    const cacheDir = join(dir, 'cache');
    await mkdir(join(cacheDir, 'cifar10'), { recursive: true });
    const archive = join(cacheDir, 'cifar10', 'cifar-10-binary.tar.gz');
    execFileSync('tar', ['--format=gnu', '-czf', archive, '-C', dir, 'cifar-10-batches-bin']);
    const { readFile } = await import('node:fs/promises');
    const ds = await loadCifar10({
      split: 'test',
      cacheDir,
      md5: md5(await readFile(archive)),
      mirrors: [],
    });
    expect(Array.from(ds.labels)).toEqual([5, 6]);
    expect(at(ds, 1, 31, 0, 1)).toBe(pixel(41, 1, 31, 0));
  });
});
