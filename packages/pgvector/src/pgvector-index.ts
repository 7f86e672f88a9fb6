import { describe, EbmError, resolveOptions } from '@ebmjs/contract';
import { Connection, type Queryable } from './client.js';
import { checkSchema, createSchema, quoteIdent, type TableShape } from './schema.js';
import { checkId, type Metadata, metadataJson, parseVector, vectorSql } from './vectors.js';

export interface PgVectorIndexOptions {
  /** Table name (lower-case letters, digits, _). Default "ebm_embeddings". */
  table?: string;
  /** Embedding size: required to create a table; checked against an existing one. */
  dim?: number;
  /** HNSW graph degree (pgvector's `m`). Default 16. */
  m?: number;
  /** HNSW build candidate list (`ef_construction`). Default 64. */
  efConstruction?: number;
  /** HNSW search candidate list (`hnsw.ef_search`), raised to k when k is larger. Default 40. */
  efSearch?: number;
  /** Rows per INSERT statement. Default 500. */
  batchSize?: number;
}

export interface PgSearchHit {
  id: string;
  /** Cosine similarity to the query (1 − pgvector's cosine distance); hits come highest first. */
  score: number;
  metadata: Metadata;
}

export interface PgSearchOptions {
  /** Only rows whose metadata contains this object (jsonb `@>`), e.g. `{ label: 'cat' }`. */
  filter?: Metadata;
  /** ef_search for this query. Default: the index's. */
  efSearch?: number;
}

/** One row for `addAll` / `setAll`: `[id, embedding]` or `[id, embedding, metadata]`. */
export type PgEntry =
  | readonly [string, ArrayLike<number>]
  | readonly [string, ArrayLike<number>, Metadata];

const DEFAULTS = {
  table: 'ebm_embeddings',
  dim: undefined,
  m: 16,
  efConstruction: 64,
  efSearch: 40,
  batchSize: 500,
} as const;

function checkInt(caller: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${caller}: option "${name}" must be an integer in ${min}..${max}, received ${describe(v)}.`,
      { option: name, received: describe(v) },
    );
  }
  return v;
}

/**
 * The EmbeddingIndex API on PostgreSQL with pgvector: unit vectors under string ids with JSON
 * metadata, cosine top-k search on an HNSW index, batched all-or-none inserts, upserts, deletes
 * and metadata filters. Every method is async (it is a database). Works on a `pg` Client or Pool,
 * a connection string, or PGlite (`@electric-sql/pglite` with its vector extension).
 */
export class PgVectorIndex {
  private constructor(
    private readonly connection: Connection,
    /** The table's name. */
    readonly table: string,
    private readonly shape: TableShape,
    /** ef_search used by `search` unless a query gives its own. */
    readonly efSearch: number,
    private readonly batchSize: number,
  ) {}

  /** Opens the table, creating the extension, table and indexes if missing (`dim` required then). */
  static async create(
    source: string | Queryable,
    options?: PgVectorIndexOptions,
  ): Promise<PgVectorIndex> {
    return PgVectorIndex.connect('PgVectorIndex.create', source, options, true);
  }

  /** Opens an existing table (made by `create`); its schema is checked, never changed. */
  static async open(
    source: string | Queryable,
    options?: PgVectorIndexOptions,
  ): Promise<PgVectorIndex> {
    return PgVectorIndex.connect('PgVectorIndex.open', source, options, false);
  }

  private static async connect(
    caller: string,
    source: string | Queryable,
    options: PgVectorIndexOptions | undefined,
    create: boolean,
  ): Promise<PgVectorIndex> {
    const o = resolveOptions<PgVectorIndexOptions, typeof DEFAULTS>(caller, options, DEFAULTS);
    if (typeof o.table !== 'string' || !/^[a-z_][a-z0-9_]{0,40}$/.test(o.table)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${caller}: option "table" must be a lower-case SQL name (a-z, 0-9, _; up to 41 characters), received ${describe(o.table)}.`,
        { option: 'table', received: describe(o.table) },
      );
    }
    if (o.dim !== undefined) checkInt(caller, 'dim', o.dim, 1, 16000);
    const m = checkInt(caller, 'm', o.m, 2, 100);
    const efConstruction = checkInt(caller, 'efConstruction', o.efConstruction, 4, 1000);
    if (efConstruction < 2 * m) checkInt(caller, 'efConstruction', efConstruction, 2 * m, 1000);
    const efSearch = checkInt(caller, 'efSearch', o.efSearch, 1, 1000);
    const batchSize = checkInt(caller, 'batchSize', o.batchSize, 1, 10000);
    const connection = await Connection.open(source, caller);
    try {
      const shape = await connection.run(
        caller,
        async (query) => {
          if (create) {
            const exists = await query('SELECT to_regclass($1) IS NOT NULL AS present', [o.table]);
            if (exists.rows[0]?.present !== true && o.dim === undefined) {
              throw new EbmError(
                'INVALID_ARGUMENT',
                `${caller}: table "${o.table}" does not exist; option "dim" is needed to create it.`,
                { option: 'dim' },
              );
            }
            if (exists.rows[0]?.present !== true)
              await createSchema(query, o.table, { dim: o.dim!, m, efConstruction });
          }
          return checkSchema(query, o.table, caller);
        },
        create,
      );
      if (o.dim !== undefined && o.dim !== shape.dim) {
        throw new EbmError(
          'SHAPE_MISMATCH',
          `${caller}: option "dim" is ${o.dim} but table "${o.table}" holds ${shape.dim}-dimensional vectors.`,
          { expected: shape.dim, received: o.dim },
        );
      }
      return new PgVectorIndex(connection, o.table, shape, efSearch, batchSize);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** Embedding size of the table. */
  get dim(): number {
    return this.shape.dim;
  }

  /** The HNSW index's build settings, as read from the database. */
  get hnsw(): { m: number; efConstruction: number } {
    return { m: this.shape.m, efConstruction: this.shape.efConstruction };
  }

  private get t(): string {
    return quoteIdent(this.table);
  }

  /** Number of rows. */
  async size(): Promise<number> {
    return this.connection.run('PgVectorIndex.size', async (query) =>
      Number((await query(`SELECT count(*)::int AS n FROM ${this.t}`)).rows[0]!.n),
    );
  }

  /** All ids, sorted. */
  async ids(): Promise<string[]> {
    return this.connection.run('PgVectorIndex.ids', async (query) =>
      (await query(`SELECT id FROM ${this.t} ORDER BY id`)).rows.map((r) => String(r.id)),
    );
  }

  async has(id: string): Promise<boolean> {
    checkId(id, 'PgVectorIndex.has');
    return this.connection.run(
      'PgVectorIndex.has',
      async (query) => (await query(`SELECT 1 FROM ${this.t} WHERE id = $1`, [id])).rows.length > 0,
    );
  }

  /** The stored (unit-length) vector of `id`. */
  async get(id: string): Promise<Float32Array | undefined> {
    checkId(id, 'PgVectorIndex.get');
    const row = await this.connection.run(
      'PgVectorIndex.get',
      async (query) =>
        (await query(`SELECT embedding::text AS e FROM ${this.t} WHERE id = $1`, [id])).rows[0],
    );
    return row === undefined ? undefined : parseVector(row.e);
  }

  /** The metadata of `id`. */
  async metadata(id: string): Promise<Metadata | undefined> {
    checkId(id, 'PgVectorIndex.metadata');
    const row = await this.connection.run(
      'PgVectorIndex.metadata',
      async (query) =>
        (await query(`SELECT metadata::text AS m FROM ${this.t} WHERE id = $1`, [id])).rows[0],
    );
    return row === undefined ? undefined : (JSON.parse(String(row.m)) as Metadata);
  }

  /** Adds a new id; an id already there is INVALID_ARGUMENT (`set` replaces). */
  async add(id: string, embedding: ArrayLike<number>, metadata?: Metadata): Promise<this> {
    return this.addAll([[id, embedding, metadata ?? {}]]);
  }

  /** Stores `embedding` (and metadata) under `id`, replacing what `id` had or adding it. */
  async set(id: string, embedding: ArrayLike<number>, metadata?: Metadata): Promise<this> {
    return this.setAll([[id, embedding, metadata ?? {}]]);
  }

  /** Same as `set`. */
  upsert(id: string, embedding: ArrayLike<number>, metadata?: Metadata): Promise<this> {
    return this.set(id, embedding, metadata);
  }

  /**
   * Adds many rows in batched INSERTs inside one transaction, all or none: every id must be new
   * and appear once, and every vector valid.
   */
  async addAll(entries: Iterable<PgEntry>): Promise<this> {
    const rows = this.rows(entries, 'PgVectorIndex.add');
    const seen = new Set<string>();
    for (const [id] of rows) {
      if (seen.has(id)) throw duplicate(id, 'entries being added');
      seen.add(id);
    }
    await this.write(rows, 'PgVectorIndex.add', false);
    return this;
  }

  /** Upserts many rows in batched statements inside one transaction; a repeated id: the last wins. */
  async setAll(entries: Iterable<PgEntry>): Promise<this> {
    const last = new Map<string, [string, string, string]>();
    for (const row of this.rows(entries, 'PgVectorIndex.set')) last.set(row[0], row);
    await this.write([...last.values()], 'PgVectorIndex.set', true);
    return this;
  }

  /** Same as `setAll`. */
  upsertAll(entries: Iterable<PgEntry>): Promise<this> {
    return this.setAll(entries);
  }

  /** Deletes `id`; returns whether it was there. */
  async remove(id: string): Promise<boolean> {
    return (await this.removeAll([id])) === 1;
  }

  /** Same as `remove`. */
  delete(id: string): Promise<boolean> {
    return this.remove(id);
  }

  /** Deletes many ids; returns how many were there. */
  async removeAll(ids: Iterable<string>): Promise<number> {
    const list = [...ids];
    for (const id of list) checkId(id, 'PgVectorIndex.remove');
    if (list.length === 0) return 0;
    return this.connection.run('PgVectorIndex.remove', async (query) => {
      const { rows } = await query(
        `DELETE FROM ${this.t} WHERE id = ANY($1::text[]) RETURNING id`,
        [list],
      );
      return rows.length;
    });
  }

  /** Deletes every row (the table and its indexes stay). */
  async clear(): Promise<void> {
    await this.connection.run('PgVectorIndex.clear', (query) => query(`TRUNCATE ${this.t}`));
  }

  /**
   * The `k` rows most similar to `query` by cosine similarity, best first (ties by id), through
   * the HNSW index (approximate: recall grows with `efSearch`). `filter` keeps rows whose
   * metadata contains it; pgvector then scans the index iteratively (0.8+) so k rows still come back.
   */
  async search(
    query: ArrayLike<number>,
    k = 10,
    options: PgSearchOptions = {},
  ): Promise<PgSearchHit[]> {
    const caller = 'PgVectorIndex.search';
    if (!(Number.isInteger(k) && k >= 0)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${caller}: k must be a non-negative integer, received ${describe(k)}.`,
        { option: 'k', received: describe(k) },
      );
    }
    const o = resolveOptions(caller, options, { filter: undefined, efSearch: undefined });
    const vector = vectorSql(query, this.dim, caller);
    const filter = o.filter === undefined ? undefined : metadataJson(o.filter, `${caller} filter`);
    const ef = Math.min(
      1000,
      Math.max(k, checkInt(caller, 'efSearch', o.efSearch ?? this.efSearch, 1, 1000)),
    );
    if (k === 0) return [];
    const iterative = filter !== undefined && versionAtLeast(this.shape.extensionVersion, 0, 8);
    const rows = await this.connection.run(
      caller,
      async (q) => {
        await q(`SET LOCAL hnsw.ef_search = ${ef}`);
        if (iterative) await q(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
        const where = filter === undefined ? '' : 'WHERE metadata @> $3::jsonb';
        const values = filter === undefined ? [vector, k] : [vector, k, filter];
        return (
          await q(
            `SELECT id, metadata::text AS m, embedding <=> $1::vector AS d FROM ${this.t} ${where} ORDER BY embedding <=> $1::vector LIMIT $2`,
            values,
          )
        ).rows;
      },
      true,
    );
    const hits = rows.map((r) => ({
      id: String(r.id),
      score: Math.max(-1, Math.min(1, 1 - Number(r.d))),
      metadata: JSON.parse(String(r.m)) as Metadata,
    }));
    // relaxed_order may return rows slightly out of order; ties go by id as in EmbeddingIndex.
    return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Drops the table and its indexes. */
  async drop(): Promise<void> {
    await this.connection.run('PgVectorIndex.drop', (query) =>
      query(`DROP TABLE IF EXISTS ${this.t}`),
    );
  }

  /** Ends the connection pool this index opened from a connection string (a given client stays open). */
  async close(): Promise<void> {
    await this.connection.close();
  }

  private rows(entries: Iterable<PgEntry>, where: string): [string, string, string][] {
    if (
      entries === null ||
      typeof (entries as Iterable<PgEntry>)?.[Symbol.iterator] !== 'function'
    ) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: entries must be an iterable of [id, embedding, metadata?], received ${describe(entries)}.`,
        { received: describe(entries) },
      );
    }
    return [...entries].map((entry) => {
      const [id, embedding, metadata] = entry as unknown as [string, ArrayLike<number>, Metadata?];
      checkId(id, where);
      return [id, vectorSql(embedding, this.dim, where), metadataJson(metadata, where)];
    });
  }

  private async write(rows: [string, string, string][], caller: string, upsert: boolean) {
    if (rows.length === 0) return;
    const conflict = upsert
      ? 'ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata'
      : 'ON CONFLICT (id) DO NOTHING RETURNING id';
    await this.connection.run(
      caller,
      async (query) => {
        for (let start = 0; start < rows.length; start += this.batchSize) {
          const batch = rows.slice(start, start + this.batchSize);
          const values = batch.flat();
          const tuples = batch.map(
            (_, i) => `($${3 * i + 1}, $${3 * i + 2}::vector, $${3 * i + 3}::jsonb)`,
          );
          const { rows: inserted } = await query(
            `INSERT INTO ${this.t} (id, embedding, metadata) VALUES ${tuples.join(', ')} ${conflict}`,
            values,
          );
          if (!upsert && inserted.length !== batch.length) {
            const got = new Set(inserted.map((r) => String(r.id)));
            // Thrown inside the transaction: everything added so far is rolled back.
            throw duplicate(batch.find(([id]) => !got.has(id))![0], 'index');
          }
        }
      },
      true,
    );
  }
}

function duplicate(id: string, where: 'index' | 'entries being added'): EbmError {
  return new EbmError(
    'INVALID_ARGUMENT',
    `PgVectorIndex.add: id ${describe(id)} is already in the ${where}; ids must be unique (set() replaces a vector).`,
    { id },
  );
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}
