// The archive loaders' download path against a local HTTP server on loopback: a good file, one
// cut short mid-transfer, a truncated file served whole, one with a wrong checksum and a server
// error. Every failure is an EbmError naming the cause, and the cache is left as it was.
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCifar10, loadStl10 } from '../src/node.js';
import { cifarRecords, md5, pixel, stlImages, tarGz } from './fixtures/archives.js';

const cifar = tarGz([
  { name: 'cifar-10-batches-bin/test_batch.bin', data: cifarRecords([[3], [8], [0]], 20) },
]);
const stl = tarGz([
  { name: 'stl10_binary/test_X.bin', data: stlImages(2, 5) },
  { name: 'stl10_binary/test_y.bin', data: new Uint8Array([2, 9]) },
]);
const FILE = 'cifar-10-binary.tar.gz';

let base = '';
const hits: string[] = [];
const server = createServer((req, res) => {
  hits.push(req.url ?? '');
  const [, kind] = (req.url ?? '').split('/');
  if (kind === 'good') res.end(req.url?.endsWith('stl10_binary.tar.gz') ? stl : cifar);
  else if (kind === 'cut') {
    // Promises the whole file, sends half of it and hangs up.
    res.writeHead(200, { 'content-length': String(cifar.length) });
    res.write(cifar.subarray(0, cifar.length >> 1), () => res.socket?.destroy());
  } else if (kind === 'truncated') res.end(cifar.subarray(0, cifar.length - 100));
  else if (kind === 'tampered') res.end(Buffer.from(cifar).fill(7, 40, 60));
  else if (kind === 'error') res.writeHead(500).end('internal error');
  else res.writeHead(404).end();
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const tempCache = () => mkdtemp(join(tmpdir(), 'ebm-archive-dl-'));
/** Every file under the cache directory, temp files included. */
async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('archive downloads', () => {
  it('downloads a verified archive once, caches it under <cacheDir>/<dataset>/ and reuses it', async () => {
    const cacheDir = await tempCache();
    const options = {
      cacheDir,
      mirrors: [`${base}/good`],
      md5: md5(cifar),
      split: 'test' as const,
    };
    const ds = await loadCifar10(options);
    expect(Array.from(ds.labels)).toEqual([3, 8, 0]);
    expect(ds.pixels[(4 * 32 + 5) * 3 + 1]).toBe(pixel(20, 1, 4, 5));
    expect(await listing(cacheDir)).toEqual(['cifar10', join('cifar10', FILE)]);
    expect(
      Buffer.from(await readFile(join(cacheDir, 'cifar10', FILE))).equals(Buffer.from(cifar)),
    ).toBe(true);
    const before = hits.length;
    await loadCifar10(options);
    expect(hits.length).toBe(before);

    const stlDs = await loadStl10({
      cacheDir,
      mirrors: [`${base}/good`],
      md5: md5(stl),
      split: 'test',
    });
    expect(Array.from(stlDs.labels)).toEqual([1, 8]);
    expect(hits.at(-1)).toBe('/good/stl10_binary.tar.gz');
  });

  it('falls through failing mirrors to a good one, naming each failure otherwise', async () => {
    const cacheDir = await tempCache();
    const mirrors = ['error', 'tampered', 'good'].map((k) => `${base}/${k}`);
    const ds = await loadCifar10({ cacheDir, mirrors, md5: md5(cifar), split: 'test' });
    expect(ds.labels.length).toBe(3);
    const error = await loadCifar10({
      cacheDir: await tempCache(),
      mirrors: mirrors.slice(0, 2),
      md5: md5(cifar),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).message).toMatch(
      /error\/cifar-10-binary\.tar\.gz: HTTP 500; .*tampered.*checksum [0-9a-f]{32} of \d+ bytes, expected [0-9a-f]{32}/,
    );
  });

  for (const [kind, reason] of [
    ['cut', /terminated|other side closed|socket/],
    ['truncated', /checksum [0-9a-f]{32} of \d+ bytes, expected/],
    ['tampered', /checksum [0-9a-f]{32} of \d+ bytes, expected/],
    ['error', /HTTP 500/],
  ] as const) {
    it(`a ${kind} download is an IO EbmError and leaves the cache as it was`, async () => {
      const cacheDir = await tempCache();
      const error = await loadCifar10({
        cacheDir,
        mirrors: [`${base}/${kind}`],
        md5: md5(cifar),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EbmError);
      expect(error).toMatchObject({ code: 'IO' });
      expect((error as EbmError).message).toMatch(
        /^Could not download a verified copy of .*cifar-10-binary\.tar\.gz: /,
      );
      expect((error as EbmError).message).toMatch(reason);
      // No partial file and no temp file: at most the empty dataset directory.
      expect((await listing(cacheDir)).filter((f) => f !== 'cifar10')).toEqual([]);
    });
  }

  it('keeps a corrupt cache entry untouched when no mirror has a verified copy, replaces it when one has', async () => {
    const cacheDir = await tempCache();
    await mkdir(join(cacheDir, 'cifar10'));
    const path = join(cacheDir, 'cifar10', FILE);
    await writeFile(path, 'an earlier, corrupt download');
    await expect(
      loadCifar10({ cacheDir, mirrors: [`${base}/cut`], md5: md5(cifar) }),
    ).rejects.toThrow(EbmError);
    expect(await readFile(path, 'utf8')).toBe('an earlier, corrupt download');
    expect(await listing(cacheDir)).toEqual(['cifar10', join('cifar10', FILE)]);
    await loadCifar10({ cacheDir, mirrors: [`${base}/good`], md5: md5(cifar), split: 'test' });
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(cifar))).toBe(true);
    expect(await listing(cacheDir)).toEqual(['cifar10', join('cifar10', FILE)]);
  });

  it('verifies against the published MD5 by default', async () => {
    const error = await loadCifar10({
      cacheDir: await tempCache(),
      mirrors: [`${base}/good`],
    }).catch((e: unknown) => e);
    expect((error as EbmError).message).toMatch(/expected c32a1d4ab5d03f1284b67883e8d87530/);
  });
});
