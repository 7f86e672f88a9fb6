import { EbmError } from '@ebmjs/contract';
import type { QueryResult } from './client.js';

type Query = (text: string, values?: unknown[]) => Promise<QueryResult>;

/** The marker ebm.js writes as the table's comment: an existing table without it is not ours. */
export const TABLE_FORMAT = { format: 'ebmjs.pgvector', version: 1 } as const;

export interface TableShape {
  dim: number;
  m: number;
  efConstruction: number;
  /** pgvector's version on the server, e.g. "0.8.1". */
  extensionVersion: string;
}

/** A lower-case SQL identifier, quoted for use in statements. */
export function quoteIdent(name: string): string {
  return `"${name}"`;
}

/**
 * Creates the extension, the table `(id text primary key, embedding vector(dim), metadata jsonb)`,
 * its HNSW index on cosine distance and a GIN index on the metadata, each only if missing.
 */
export async function createSchema(
  query: Query,
  table: string,
  shape: { dim: number; m: number; efConstruction: number },
): Promise<void> {
  const t = quoteIdent(table);
  await query('CREATE EXTENSION IF NOT EXISTS vector');
  await query(
    `CREATE TABLE IF NOT EXISTS ${t} (id text PRIMARY KEY, embedding vector(${shape.dim}) NOT NULL, metadata jsonb NOT NULL DEFAULT '{}'::jsonb)`,
  );
  await query(
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_embedding_hnsw`)} ON ${t} USING hnsw (embedding vector_cosine_ops) WITH (m = ${shape.m}, ef_construction = ${shape.efConstruction})`,
  );
  await query(
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_metadata_gin`)} ON ${t} USING gin (metadata jsonb_path_ops)`,
  );
  const { rows } = await query(`SELECT obj_description(to_regclass($1), 'pg_class') AS c`, [table]);
  if (rows[0]?.c === null || rows[0]?.c === undefined)
    await query(`COMMENT ON TABLE ${t} IS '${JSON.stringify(TABLE_FORMAT)}'`);
}

/**
 * Reads the table's shape back and checks it is an ebm.js vector table: the marker comment, the
 * three columns with their types, and an HNSW cosine index on the embedding.
 */
export async function checkSchema(
  query: Query,
  table: string,
  caller: string,
): Promise<TableShape> {
  const fail = (why: string, code: 'INVALID_ARGUMENT' | 'CORRUPT_FILE' = 'CORRUPT_FILE') =>
    new EbmError(code, `${caller}: table "${table}" ${why}.`, { table });
  const ext = await query(`SELECT extversion FROM pg_extension WHERE extname = 'vector'`);
  if (ext.rows.length === 0)
    throw fail('cannot be used: the vector extension is not installed', 'INVALID_ARGUMENT');
  const meta = await query(
    `SELECT to_regclass($1) IS NOT NULL AS present, obj_description(to_regclass($1), 'pg_class') AS comment`,
    [table],
  );
  if (meta.rows[0]?.present !== true)
    throw fail('does not exist (PgVectorIndex.create makes it)', 'INVALID_ARGUMENT');
  let marker: unknown;
  try {
    marker = JSON.parse(String(meta.rows[0]?.comment));
  } catch {
    marker = undefined;
  }
  const m = marker as { format?: unknown; version?: unknown } | undefined;
  if (m?.format !== TABLE_FORMAT.format)
    throw fail('is not an ebm.js vector table (no ebmjs.pgvector marker comment)');
  if (m.version !== TABLE_FORMAT.version)
    throw fail(
      `has format version ${JSON.stringify(m.version)}; this version reads ${TABLE_FORMAT.version}`,
    );
  const cols = await query(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  const types = Object.fromEntries(cols.rows.map((r) => [String(r.name), String(r.type)]));
  const dim = Number(/^vector\((\d+)\)$/.exec(types.embedding ?? '')?.[1]);
  if (types.id !== 'text' || types.metadata !== 'jsonb' || !Number.isInteger(dim)) {
    throw fail(
      `has columns ${JSON.stringify(types)}; expected id text, embedding vector(<dim>), metadata jsonb`,
    );
  }
  const idx = await query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [table]);
  const hnsw = idx.rows
    .map((r) => String(r.indexdef))
    .find((d) => /USING hnsw \(embedding vector_cosine_ops\)/.test(d));
  if (hnsw === undefined) throw fail('has no HNSW index on embedding with vector_cosine_ops');
  const param = (name: string, fallback: number) =>
    Number(new RegExp(`${name}='?(\\d+)'?`).exec(hnsw)?.[1] ?? fallback);
  return {
    dim,
    m: param('m', 16),
    efConstruction: param('ef_construction', 64),
    extensionVersion: String(ext.rows[0]!.extversion),
  };
}
