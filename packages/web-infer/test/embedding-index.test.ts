import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    // An entry finds itself first with score 1; re-adding an id replaces its vector.
    const [id, v] = kept[10]!;
    expect(index.search(v, 1)[0]).toEqual({ id, score: expect.closeTo(1, 5) });
    index.add(id, entries[0]![1]);
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
