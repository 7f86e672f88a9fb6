export { EbmError, type EbmErrorCode, isEbmError } from '@ebmjs/contract';
export type { Queryable, QueryResult } from './client.js';
export {
  type PgEntry,
  type PgSearchHit,
  type PgSearchOptions,
  PgVectorIndex,
  type PgVectorIndexOptions,
} from './pgvector-index.js';
export { TABLE_FORMAT } from './schema.js';
export type { Metadata } from './vectors.js';
