import { describe, EbmError } from '@ebmjs/contract';
import pgvector from 'pgvector';

/** JSON metadata stored next to each vector and matched by `search`'s filter. */
export type Metadata = Record<string, unknown>;

/** Checks `v` (length `dim`, finite, not all zero) and returns pgvector's text form of v/‖v‖. */
export function vectorSql(v: unknown, dim: number, where: string): string {
  if (typeof v !== 'object' || v === null || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: embedding must be a Float32Array or an array of numbers, received ${describe(v)}.`,
      { received: describe(v) },
    );
  }
  const a = v as ArrayLike<number>;
  if (a.length !== dim) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: embedding has ${a.length} values but the index holds ${dim}-dimensional vectors.`,
      { expected: dim, received: a.length },
    );
  }
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: embedding value ${i} is ${describe(x)}; embeddings must be finite numbers.`,
        { index: i, received: describe(x) },
      );
    }
    sum += x * x;
  }
  // pgvector's cosine distance of a zero vector is NaN: it has no direction to compare.
  if (sum === 0) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: embedding is all zeros; cosine similarity needs a non-zero vector.`,
      { received: 'zero vector' },
    );
  }
  const n = Math.sqrt(sum);
  // Stored unit-length and as float32, as EmbeddingIndex stores them.
  return pgvector.toSql(Array.from(Float32Array.from(a, (x) => x / n))) as string;
}

export function parseVector(text: unknown): Float32Array {
  return Float32Array.from(pgvector.fromSql(String(text)) as number[]);
}

export function checkId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: id must be a non-empty string, received ${describe(id)}.`,
      { received: describe(id) },
    );
  }
}

/** Metadata as JSON text: a plain object (default {}) that survives JSON. */
export function metadataJson(m: unknown, where: string): string {
  if (m === undefined) return '{}';
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: metadata must be a plain object, received ${describe(m)}.`,
      { received: describe(m) },
    );
  }
  try {
    return JSON.stringify(m);
  } catch (error) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: metadata must be JSON-serialisable (${(error as Error).message}).`,
      {},
      { cause: error },
    );
  }
}
