import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveOnnx } from '@ebmjs/export';
import { convEncoder } from '@ebmjs/models';
import { PgVectorIndex } from '@ebmjs/pgvector';
import { useCpuBackend } from '@ebmjs/test-utils';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

useCpuBackend();

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

// A real postgres:// server: PGlite (Postgres in wasm with pgvector) behind its socket server.
describe('ebm embed --index postgres://…', () => {
  let dir = '';
  let db: PGlite;
  let server: PGLiteSocketServer;
  let url = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-embed-index-'));
    db = await PGlite.create({ extensions: { vector } });
    server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 });
    await server.start();
    url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('upserts one row per image (id = path, metadata.path) into the table; a rerun replaces them', {
    timeout: 120_000,
  }, async () => {
    const encoder = convEncoder({ inputShape: [12, 12, 3], channels: [4, 8], seed: 3 });
    const model = join(dir, 'enc.onnx');
    await saveOnnx(encoder.model, model, { normalize: true });
    encoder.model.dispose();
    const images = join(dir, 'images');
    await mkdir(images);
    for (let i = 0; i < 4; i++) {
      await sharp({
        create: {
          width: 12,
          height: 12,
          channels: 3,
          background: { r: 60 * i, g: 20, b: 200 - 40 * i },
        },
      })
        .png()
        .toFile(join(images, `${i}.png`));
    }
    const args = ['embed', model, images, '--index', url, '--table', 'gallery'];
    const first = capture();
    expect(await main(args, first.io)).toBe(0);
    expect(first.out).toEqual([]); // the embeddings went to the table, not stdout
    expect(first.err.join('\n')).toMatch(/upserted 4 embedding\(s\) into table gallery \(4 rows\)/);
    expect(await main(args, capture().io)).toBe(0);

    const index = await PgVectorIndex.open(url, { table: 'gallery' });
    try {
      expect(index.dim).toBe(8);
      const ids = await index.ids();
      expect(ids).toEqual([0, 1, 2, 3].map((i) => join(images, `${i}.png`)));
      expect(await index.metadata(ids[2]!)).toEqual({ path: ids[2] });
      const hits = await index.search((await index.get(ids[2]!))!, 1);
      expect(hits[0]).toMatchObject({ id: ids[2] });
      expect(hits[0]!.score).toBeCloseTo(1, 5);
    } finally {
      await index.close();
    }
  });

  it.each([
    [
      ['--index', 'mysql://x/y'],
      /--index must be a postgres:\/\/ or postgresql:\/\/ connection string/,
    ],
    [['--table', 'gallery'], /--table needs --index/],
  ])('bad flags %j: one line, exit 2', async (flags, message) => {
    const c = capture();
    expect(await main(['embed', 'model.onnx', 'images', ...flags], c.io)).toBe(2);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(message);
  });
});
