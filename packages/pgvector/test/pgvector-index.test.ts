import { EmbeddingIndex } from '@ebmjs/web-infer';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgVectorIndex, type Queryable } from '../src/index.js';
import { clusteredEmbeddings } from './data.js';

// The real SQL runs on PGlite (Postgres 17 in wasm with pgvector) always: in process, and
// behind PGlite's socket server through the `pg` driver and a postgres:// URL; and on a
// PostgreSQL server with pgvector too when DATABASE_URL points at one.
interface Backend {
  name: string;
  start(): Promise<Queryable | string>;
  stop(): Promise<void>;
  /** One session behind every connection: concurrent transactions would share it. */
  serial?: boolean;
  /** Run the 5,000-row recall check (a property of the index, not of the driver). */
  recall?: boolean;
}
let socketDb: PGlite | undefined;
let socketServer: PGLiteSocketServer | undefined;
let inProcess: PGlite | undefined;
const backends: Backend[] = [
  {
    name: 'PGlite',
    recall: true,
    start: async () => {
      inProcess = await PGlite.create({ extensions: { vector } });
      return inProcess as unknown as Queryable;
    },
    stop: async () => inProcess?.close(),
  },
  {
    name: 'pg over PGlite socket (postgres:// URL)',
    serial: true,
    start: async () => {
      socketDb = await PGlite.create({ extensions: { vector } });
      socketServer = new PGLiteSocketServer({
        db: socketDb,
        port: 0,
        host: '127.0.0.1',
        maxConnections: 20,
      });
      await socketServer.start();
      return `postgres://postgres@${socketServer.getServerConn()}/postgres?sslmode=disable`;
    },
    stop: async () => {
      await socketServer?.stop();
      await socketDb?.close();
    },
  },
];
if (process.env.DATABASE_URL) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  backends.push({
    name: 'PostgreSQL (DATABASE_URL)',
    recall: true,
    start: async () => pool,
    stop: () => pool.end(),
  });
}

let tables = 0;
const table = () => `ebm_test_${process.pid}_${tables++}`;

describe.each(backends)('PgVectorIndex on $name', (backend) => {
  // `db` runs the test's own SQL; `source` is what the index is given (a client or a URL).
  let source: Queryable | string;
  let db: Queryable;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    source = await backend.start();
    if (typeof source === 'string') {
      pool = new pg.Pool({ connectionString: source, max: 1 });
      db = pool;
    } else db = source;
  }, 180_000);
  afterAll(async () => {
    await pool?.end();
    await backend.stop();
  });

  it('creates the schema it checks: vector(dim), jsonb metadata, an HNSW cosine index with m and ef_construction', async () => {
    const name = table();
    const index = await PgVectorIndex.create(source, {
      table: name,
      dim: 8,
      m: 8,
      efConstruction: 32,
    });
    expect([index.dim, index.hnsw]).toEqual([8, { m: 8, efConstruction: 32 }]);
    const { rows } = await db.query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [name]);
    expect(rows.map((r) => r.indexdef).join('\n')).toMatch(
      /USING hnsw \(embedding vector_cosine_ops\) WITH \(m='?8'?, ef_construction='?32'?\)/,
    );
    const again = await PgVectorIndex.open(source, { table: name });
    expect([again.dim, again.hnsw]).toEqual([8, { m: 8, efConstruction: 32 }]);
    // create on an existing table opens it; a different dim is a mismatch.
    const third = await PgVectorIndex.create(source, { table: name });
    expect(third.dim).toBe(8);
    await third.close();
    await again.close();
    await expect(PgVectorIndex.open(source, { table: name, dim: 9 })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringMatching(/"dim" is 9 but table "ebm_test_\d+_\d+" holds 8-dimensional/),
    });
    await index.drop();
    await index.close();
  });

  it('refuses tables it did not make or cannot use, naming why', async () => {
    await expect(PgVectorIndex.open(source, { table: 'ebm_nothing_here' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('does not exist'),
    });
    await expect(PgVectorIndex.create(source, { table: table() })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('option "dim" is needed'),
    });
    const foreign = table();
    await db.query(`CREATE TABLE ${foreign} (id text primary key, embedding vector(3))`);
    await expect(PgVectorIndex.open(source, { table: foreign })).rejects.toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringContaining('not an ebm.js vector table'),
    });
    await db.query(`DROP TABLE ${foreign}`);
    const noIndex = table();
    const made = await PgVectorIndex.create(source, { table: noIndex, dim: 3 });
    await db.query(`DROP INDEX ${noIndex}_embedding_hnsw`);
    await expect(PgVectorIndex.open(source, { table: noIndex })).rejects.toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringContaining('no HNSW index'),
    });
    await made.drop();
    await made.close();
    for (const [options, message] of [
      [{ table: 'Bad-Name', dim: 3 }, /option "table" must be a lower-case SQL name/],
      [{ dim: 3, m: 1 }, /option "m" must be an integer in 2\.\.100, received 1/],
      [{ dim: 3, efSearch: 0 }, /option "efSearch" must be an integer in 1\.\.1000/],
      [{ dim: 3, efSerch: 10 }, /unknown option "efSerch". Did you mean "efSearch"/],
    ] as const) {
      await expect(
        PgVectorIndex.create(source, options as Parameters<typeof PgVectorIndex.create>[1]),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      });
    }
  });

  it('add, get, has, set (upsert), metadata, remove (delete), size, ids, clear', async () => {
    const index = await PgVectorIndex.create(source, { table: table(), dim: 3 });
    await index.add('a', [3, 0, 4], { label: 'cat' });
    await index.addAll([
      ['b', new Float32Array([0, 1, 0])],
      ['c', [1, 1, 0], { label: 'dog', n: 2 }],
    ]);
    expect(await index.size()).toBe(3);
    expect(await index.ids()).toEqual(['a', 'b', 'c']);
    expect(await index.has('a')).toBe(true);
    expect(await index.has('z')).toBe(false);
    // Stored unit-length, as EmbeddingIndex stores them.
    expect(Array.from((await index.get('a'))!)).toEqual([0.6000000238418579, 0, 0.800000011920929]);
    expect(await index.metadata('c')).toEqual({ label: 'dog', n: 2 });
    expect(await index.get('z')).toBeUndefined();
    await index.set('a', [0, 0, 2], { label: 'bird' });
    await index.upsert('d', [0, 0, -1]);
    expect(Array.from((await index.get('a'))!)).toEqual([0, 0, 1]);
    expect(await index.metadata('a')).toEqual({ label: 'bird' });
    expect(await index.metadata('d')).toEqual({});
    expect(await index.remove('b')).toBe(true);
    expect(await index.delete('b')).toBe(false);
    expect(await index.removeAll(['c', 'd', 'nope'])).toBe(2);
    expect(await index.ids()).toEqual(['a']);
    await index.clear();
    expect(await index.size()).toBe(0);
    await index.drop();
    await index.close();
  });

  it('addAll is batched and all or none: a duplicate in the last batch leaves nothing added', async () => {
    const index = await PgVectorIndex.create(source, { table: table(), dim: 2, batchSize: 2 });
    await index.add('x', [1, 0]);
    const entries = ['p', 'q', 'r', 's', 'x'].map((id, i) => [id, [1, i + 1]] as const);
    await expect(index.addAll(entries)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message:
        'PgVectorIndex.add: id "x" is already in the index; ids must be unique (set() replaces a vector).',
    });
    expect(await index.ids()).toEqual(['x']);
    await expect(
      index.addAll([
        ['p', [1, 0]],
        ['p', [0, 1]],
      ]),
    ).rejects.toMatchObject({ message: expect.stringContaining('entries being added') });
    // setAll upserts across batches; a repeated id: the last wins.
    await index.setAll([...entries, ['p', [0, 5]]]);
    expect(await index.size()).toBe(5);
    expect(Array.from((await index.get('p'))!)).toEqual([0, 1]);
    await index.drop();
    await index.close();
  });

  it('search gives the exact index’s hits and scores on a small set; filters by metadata and still returns k', async () => {
    const vectors = clusteredEmbeddings(300, 16, { clusters: 10, seed: 7 });
    const index = await PgVectorIndex.create(source, { table: table(), dim: 16 });
    const exact = new EmbeddingIndex();
    await index.addAll(
      vectors.map((v, i) => [`v${i}`, v, { parity: i % 2 === 0 ? 'even' : 'odd', i }]),
    );
    vectors.forEach((v, i) => exact.add(`v${i}`, v));
    for (const q of clusteredEmbeddings(5, 16, { clusters: 10, seed: 7 })) {
      const hits = await index.search(q, 5, { efSearch: 200 });
      const want = exact.search(q, 5);
      expect(hits.map((h) => h.id)).toEqual(want.map((h) => h.id));
      hits.forEach((h, j) => expect(h.score).toBeCloseTo(want[j]!.score, 5));
      const odd = await index.search(q, 10, { filter: { parity: 'odd' } });
      expect(odd).toHaveLength(10);
      expect(
        odd.every((h) => h.metadata.parity === 'odd' && (h.metadata.i as number) % 2 === 1),
      ).toBe(true);
      const wantOdd = exact.search(q, 10, (id) => Number(id.slice(1)) % 2 === 1);
      expect(odd.map((h) => h.id)).toEqual(wantOdd.map((h) => h.id));
    }
    expect(await index.search(vectors[0]!, 0)).toEqual([]);
    expect(await index.search(vectors[0]!, 3, { filter: { parity: 'none' } })).toEqual([]);
    await index.drop();
    await index.close();
  });

  it('rejects bad vectors, ids, metadata and k with the EbmError that names them', async () => {
    const index = await PgVectorIndex.create(source, { table: table(), dim: 3 });
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [
        () => index.add('a', [1, 2]),
        'SHAPE_MISMATCH',
        /has 2 values but the index holds 3-dimensional/,
      ],
      [() => index.add('a', [1, Number.NaN, 0]), 'INVALID_ARGUMENT', /value 1 is NaN/],
      [() => index.add('a', [0, 0, 0]), 'INVALID_ARGUMENT', /all zeros/],
      [() => index.add('', [1, 0, 0]), 'INVALID_ARGUMENT', /id must be a non-empty string/],
      [
        () => index.add('a', [1, 0, 0], [] as never),
        'INVALID_ARGUMENT',
        /metadata must be a plain object/,
      ],
      [() => index.search([1, 0, 0], -1), 'INVALID_ARGUMENT', /k must be a non-negative integer/],
      [() => index.search([1, 0], 3), 'SHAPE_MISMATCH', /has 2 values/],
      [
        () => index.search([1, 0, 0], 3, { eff: 3 } as never),
        'INVALID_ARGUMENT',
        /unknown option "eff"/,
      ],
    ];
    for (const [call, code, message] of cases) {
      await expect(call()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    }
    expect(await index.size()).toBe(0);
    await index.drop();
    await index.close();
  });

  it.skipIf(backend.serial)(
    'concurrent calls on one connection never land inside each other’s transactions',
    async () => {
      const index = await PgVectorIndex.create(source, { table: table(), dim: 4 });
      const vectors = clusteredEmbeddings(40, 4, { clusters: 4, seed: 3 });
      const results = await Promise.allSettled([
        ...vectors.map((v, i) => index.add(`v${i}`, v)),
        index.add('v0', [1, 0, 0, 0]), // a duplicate, rolled back alone
        ...vectors.slice(0, 5).map((v) => index.search(v, 3)),
      ]);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
      expect(await index.size()).toBe(40);
      await index.drop();
      await index.close();
    },
  );

  it.runIf(backend.recall)(
    'recall@10 against the exact EmbeddingIndex on 5,000 embeddings >= 0.95 at the default ef_search',
    {
      timeout: 600_000,
    },
    async () => {
      const dim = 64;
      // One draw, split: the queries are fresh points around the data's own cluster centres, with
      // noise as large as the spread of the centres (as in bench/pgvector-recall.mjs).
      const all = clusteredEmbeddings(5100, dim, { clusters: 100, spread: 1, seed: 11 });
      const data = all.slice(0, 5000);
      const queries = all.slice(5000);
      const index = await PgVectorIndex.create(source, { table: table(), dim });
      const exact = new EmbeddingIndex();
      const t0 = performance.now();
      await index.addAll(data.map((v, i) => [`v${i}`, v]));
      const insertS = (performance.now() - t0) / 1000;
      data.forEach((v, i) => exact.add(`v${i}`, v));
      let found = 0;
      let pgS = 0;
      let exactS = 0;
      for (const q of queries) {
        let t = performance.now();
        const hits = await index.search(q, 10);
        pgS += (performance.now() - t) / 1000;
        t = performance.now();
        const want = new Set(exact.search(q, 10).map((h) => h.id));
        exactS += (performance.now() - t) / 1000;
        found += hits.filter((h) => want.has(h.id)).length;
      }
      const recall = found / (10 * queries.length);
      console.log(
        `${backend.name}: recall@10 ${recall.toFixed(3)} at ef_search ${index.efSearch}; insert ${(data.length / insertS).toFixed(0)} rows/s; ` +
          `queries/s pgvector ${(queries.length / pgS).toFixed(0)}, exact in-memory ${(queries.length / exactS).toFixed(0)}`,
      );
      expect(recall).toBeGreaterThanOrEqual(0.95);
      await index.drop();
      await index.close();
    },
  );
});

describe('PgVectorIndex connection strings', () => {
  it('rejects what is not a postgres:// URL, without echoing a password', async () => {
    await expect(PgVectorIndex.create('mysql://u:secret@h/db', { dim: 3 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.not.stringContaining('secret'),
    });
    await expect(PgVectorIndex.create(42 as never, { dim: 3 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('an unreachable server is IO naming the redacted URL', async () => {
    const error = await PgVectorIndex.create('postgres://u:secret@127.0.0.1:1/db', {
      dim: 3,
    }).catch((e) => e);
    expect(error).toMatchObject({
      code: 'IO',
      message: expect.stringContaining('postgres://u:***@127.0.0.1:1/db'),
    });
    expect(error.message).not.toContain('secret');
  });
});
