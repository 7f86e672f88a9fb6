import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '@ebmjs/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingIndex as BrowserIndex } from '../src/embedding-index.browser.js';
import { cosineEnergy, cosineSimilarity, EmbeddingIndex, l2Normalize } from '../src/index.node.js';

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) % 2 ** 32;
    return s / 2 ** 32 - 0.5;
  };
}

function bruteForce(entries: [string, Float32Array][], q: Float32Array, k: number) {
  return entries
    .map(([id, v]) => ({ id, score: cosineSimilarity(v, q) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, k);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'web-infer-index-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('cosineSimilarity, cosineEnergy, l2Normalize', () => {
  it('closed-form values', () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 1], [-1, -1])).toBeCloseTo(-1, 12);
    expect(cosineSimilarity([3, 4], [4, 3])).toBeCloseTo(24 / 25, 12);
    expect(cosineSimilarity([0, 0], [1, 2])).toBe(0);
    expect(cosineEnergy([3, 4], [4, 3])).toBeCloseTo(-24 / 25, 12);
    expect(cosineEnergy([3, 4], [4, 3], 0.5)).toBeCloseTo(-48 / 25, 12);
    expect(Array.from(l2Normalize([3, 4]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(/same length, received 2 and 3/);
    expect(() => cosineEnergy([1], [1], 0)).toThrow(/temperature/);
  });
});

describe('EmbeddingIndex', () => {
  const next = rng(3);
  const entries: [string, Float32Array][] = Array.from({ length: 300 }, (_, i) => [
    `item-${i}`,
    Float32Array.from({ length: 24 }, next),
  ]);

  it('top-k search equals brute force; remove and re-add keep it right', () => {
    const index = new EmbeddingIndex().addAll(entries);
    expect(index.size).toBe(300);
    expect(index.dim).toBe(24);
    for (let t = 0; t < 5; t++) {
      const q = Float32Array.from({ length: 24 }, next);
      const got = index.search(q, 7);
      const want = bruteForce(entries, q, 7);
      expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
      got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 5));
    }
    // Remove a third; the rest must still be found exactly.
    const kept = entries.filter((_, i) => i % 3 !== 0);
    for (const [id] of entries.filter((_, i) => i % 3 === 0)) expect(index.remove(id)).toBe(true);
    expect(index.remove('item-0')).toBe(false);
    expect(index.size).toBe(200);
    const q = entries[0]![1];
    expect(index.search(q, 5).map((h) => h.id)).toEqual(bruteForce(kept, q, 5).map((h) => h.id));
    // An entry finds itself first with score 1; set() replaces the vector of an id.
    const [id, v] = kept[10]!;
    expect(index.search(v, 1)[0]).toEqual({ id, score: expect.closeTo(1, 5) });
    index.set(id, entries[0]![1]);
    expect(index.size).toBe(200);
    expect(index.search(entries[0]![1], 1)[0]!.id).toBe(id);
    expect(index.search(q, 3, (x) => x !== id).map((h) => h.id)).not.toContain(id);
    expect(index.has(id)).toBe(true);
    expect(index.get('nope')).toBeUndefined();
    expect(index.search(q, 0)).toEqual([]);
    expect(index.search(q, 1000)).toHaveLength(200);
  });

  it('rejects wrong sizes, non-finite values and bad ids', () => {
    const index = new EmbeddingIndex({ dim: 3 });
    expect(() => index.add('a', [1, 2])).toThrow(/2 values but the index holds 3-dimensional/);
    expect(() => index.add('a', [1, Number.NaN, 2])).toThrow(/finite/);
    expect(() => index.add('', [1, 2, 3])).toThrow(/non-empty string/);
    expect(() => index.search([1, 2], 3)).toThrow(/SHAPE|2 values/);
    expect(() => new EmbeddingIndex({ dim: 0 })).toThrow(/positive integer/);
  });

  it('save/load round-trips through an atomic write; a corrupt file is CORRUPT_FILE', async () => {
    const index = new EmbeddingIndex().addAll(entries.slice(0, 50));
    index.remove('item-7');
    const path = join(dir, 'gallery.ebmidx');
    await writeFile(path, 'old contents');
    await index.save(path);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    const loaded = await EmbeddingIndex.load(path);
    expect(loaded).toBeInstanceOf(EmbeddingIndex);
    expect(loaded.ids()).toEqual(index.ids());
    for (const id of index.ids())
      expect(Array.from(loaded.get(id)!)).toEqual(Array.from(index.get(id)!));
    const q = entries[3]![1];
    expect(loaded.search(q, 4)).toEqual(index.search(q, 4));

    const bytes = await readFile(path);
    const flipped = Uint8Array.from(bytes);
    flipped[flipped.length - 5]! ^= 0xff;
    await writeFile(join(dir, 'flipped'), flipped);
    await expect(EmbeddingIndex.load(join(dir, 'flipped'))).rejects.toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringMatching(/CRC-32/),
    });
    await writeFile(join(dir, 'short'), bytes.subarray(0, bytes.length - 8));
    await expect(EmbeddingIndex.load(join(dir, 'short'))).rejects.toMatchObject({
      code: 'CORRUPT_FILE',
    });
    await writeFile(join(dir, 'text'), 'hello');
    await expect(EmbeddingIndex.load(join(dir, 'text'))).rejects.toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringMatching(/EBMJSIDX/),
    });
    await expect(EmbeddingIndex.load(join(dir, 'missing'))).rejects.toMatchObject({ code: 'IO' });
    // A save into a directory that cannot be created fails with IO and leaves nothing behind.
    await expect(index.save(join(dir, 'text', 'x.ebmidx'))).rejects.toMatchObject({ code: 'IO' });
  });

  it('the browser entry saves a Blob and loads it (and an empty index round-trips)', async () => {
    const index = new BrowserIndex().addAll(entries.slice(0, 5));
    const loaded = await BrowserIndex.load(index.save());
    expect(loaded.ids()).toEqual(index.ids());
    const empty = await BrowserIndex.load(new BrowserIndex().save());
    expect(empty.size).toBe(0);
    expect(empty.search([1, 2], 3)).toEqual([]);
  });
});

/** Little-endian float32 bytes of `values`. */
function f32le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** A file laid out as `toBytes` lays it out: magic, u32 header length, JSON header, rows (, CRC). */
function craft(header: Record<string, unknown>, body: Uint8Array, trailer: boolean): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + json.length + body.length + (trailer ? 4 : 0));
  out.set(new TextEncoder().encode('EBMJSIDX'), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(body, 12 + json.length);
  if (trailer) {
    const crc = crc32(out.subarray(0, out.length - 4));
    new DataView(out.buffer).setUint32(out.length - 4, crc, true);
  }
  return out;
}

/** A version-1 file (CRC-32 of the rows in the header), as ebm.js 0.x wrote them. */
function craftV1(ids: unknown[], dim: number, values: number[]): Uint8Array {
  const body = f32le(values);
  const header = {
    format: 'ebmjs.embedding-index',
    version: 1,
    dim,
    count: ids.length,
    ids,
    crc32: crc32(body),
  };
  return craft(header, body, false);
}

/** A current-version file with a valid whole-file CRC-32, whatever its header says. */
function craftV2(ids: unknown[], dim: number, values: number[], extra = {}): Uint8Array {
  const header = {
    format: 'ebmjs.embedding-index',
    version: 2,
    dim,
    count: ids.length,
    ids,
    ...extra,
  };
  return craft(header, f32le(values), true);
}

function bits(v: Float32Array): number[] {
  return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
}

describe('EmbeddingIndex files: whole-file checksum, strict ids, exact round trip', () => {
  const next = rng(11);
  // Short vectors: re-normalising a unit float32 vector of 3 values moves a last bit about once
  // in a hundred, so 300 of them catch a load that re-normalises.
  const entries: [string, Float32Array][] = Array.from({ length: 300 }, (_, i) => [
    `img-${i}`,
    Float32Array.from({ length: 3 }, () => next() * 1e3),
  ]);

  it('save → load gives identical ids and vectors bit for bit, and saving again identical bytes', async () => {
    const index = new EmbeddingIndex().addAll(entries);
    index.remove('img-5');
    index.add('zero', new Float32Array(3)); // a zero vector stays zero, with its sign bits
    const path = join(dir, 'exact.ebmidx');
    await index.save(path);
    const first = new Uint8Array(await readFile(path));
    const loaded = await EmbeddingIndex.load(path);
    expect(loaded.ids()).toEqual(index.ids());
    expect(loaded.dim).toBe(3);
    for (const id of index.ids()) expect(bits(loaded.get(id)!)).toEqual(bits(index.get(id)!));
    await loaded.save(path);
    expect(new Uint8Array(await readFile(path))).toEqual(first);
    expect(loaded.toBytes()).toEqual(index.toBytes());
    // An empty index keeps its declared dimension.
    const empty = EmbeddingIndex.fromBytes(new EmbeddingIndex({ dim: 7 }).toBytes());
    expect(empty.dim).toBe(7);
    expect(empty.size).toBe(0);
  });

  it('flipping a byte of the id header is CORRUPT_FILE (the checksum covers the whole file)', () => {
    const bytes = new EmbeddingIndex().addAll(entries.slice(0, 4)).toBytes();
    const text = new TextDecoder().decode(bytes);
    // Still valid JSON with a well-formed id list, so only a checksum can tell.
    const at = text.indexOf('"img-2"') + 1;
    expect(at).toBeGreaterThan(0);
    for (const offset of [at, 8, 14]) {
      const flipped = Uint8Array.from(bytes);
      flipped[offset] = offset === at ? 'X'.charCodeAt(0) : flipped[offset]! ^ 0x01;
      expect(() => EmbeddingIndex.fromBytes(flipped, 'flipped.ebmidx')).toThrow(
        expect.objectContaining({ code: 'CORRUPT_FILE' }),
      );
    }
    const flipped = Uint8Array.from(bytes);
    flipped[at] = 'X'.charCodeAt(0);
    expect(() => EmbeddingIndex.fromBytes(flipped, 'flipped.ebmidx')).toThrow(/CRC-32/);
  });

  it.each([
    ['version 1', craftV1],
    ['version 2', craftV2],
  ] as const)('a %s file with duplicate or non-string ids is CORRUPT_FILE', (_, make) => {
    const dup = make(['a', 'b', 'a'], 2, [1, 0, 0, 1, 0.6, 0.8]);
    expect(() => EmbeddingIndex.fromBytes(dup, 'dup.ebmidx')).toThrow(
      expect.objectContaining({
        code: 'CORRUPT_FILE',
        message: expect.stringMatching(/dup\.ebmidx.*duplicate id "a"/),
      }),
    );
    for (const bad of [7, null, '', ['x']]) {
      const file = make(['a', bad], 2, [1, 0, 0, 1]);
      expect(() => EmbeddingIndex.fromBytes(file, 'ids.ebmidx')).toThrow(
        expect.objectContaining({
          code: 'CORRUPT_FILE',
          message: expect.stringMatching(/id 1 .*must be a non-empty string/),
        }),
      );
    }
    const nan = make(['a', 'b'], 2, [1, 0, Number.NaN, 1]);
    expect(() => EmbeddingIndex.fromBytes(nan, 'nan.ebmidx')).toThrow(
      expect.objectContaining({ code: 'CORRUPT_FILE', message: expect.stringMatching(/finite/) }),
    );
  });

  it('still reads version-1 files, without re-normalising their rows', () => {
    const values = [0.6, 0.8, 0.3, 0.4];
    const index = EmbeddingIndex.fromBytes(craftV1(['p', 'q'], 2, values));
    expect(index.ids()).toEqual(['p', 'q']);
    expect(bits(index.get('q')!)).toEqual(bits(Float32Array.from([0.3, 0.4])));
    // An unknown version names the versions this one reads.
    const future = craft(
      { format: 'ebmjs.embedding-index', version: 9, dim: 0, count: 0, ids: [] },
      new Uint8Array(),
      true,
    );
    expect(() => EmbeddingIndex.fromBytes(future)).toThrow(
      expect.objectContaining({
        code: 'CORRUPT_FILE',
        message: expect.stringMatching(/version 9.*reads .*versions 1 and 2/),
      }),
    );
  });

  it('add rejects an id that is already there (naming it); set replaces; addAll is all or nothing', () => {
    const index = new EmbeddingIndex().add('a', [1, 0]);
    expect(() => index.add('a', [0, 1])).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/id "a" is already in the index/),
      }),
    );
    expect(Array.from(index.get('a')!)).toEqual([1, 0]);
    index.set('a', [0, 2]).set('b', [3, 0]);
    expect(Array.from(index.get('a')!)).toEqual([0, 1]);
    expect(index.ids()).toEqual(['a', 'b']);
    expect(() =>
      index.addAll([
        ['c', [1, 1]],
        ['d', [1, 2]],
        ['c', [2, 1]],
      ]),
    ).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/"c"/) }),
    );
    expect(() =>
      index.addAll([
        ['e', [1, 1]],
        ['f', [1]],
      ]),
    ).toThrow(/1 values/);
    expect(index.ids()).toEqual(['a', 'b']);
  });
});
