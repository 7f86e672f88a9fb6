import { norm } from './cosine.js';
import { crc32 } from './crc32.js';
import { describe, WebInferError } from './errors.js';

export interface SearchHit {
  id: string;
  /** Cosine similarity to the query, in [−1, 1]; hits come highest first. */
  score: number;
}

export interface EmbeddingIndexOptions {
  /** Embedding size; fixed by the first `add` when omitted. */
  dim?: number;
}

const MAGIC = 'EBMJSIDX';
const FORMAT = 'ebmjs.embedding-index';
const VERSION = 1;

interface Header {
  format: string;
  version: number;
  dim: number;
  count: number;
  ids: string[];
  crc32: number;
}

/**
 * An in-memory index of unit-length embeddings under string ids: add, remove, top-k search by
 * cosine similarity, and a compact binary form (`toBytes`/`fromBytes`) that the Node and browser
 * entries save and load. Vectors are L2-normalized on the way in, so a search is one dot product
 * per entry.
 */
export class EmbeddingIndex {
  private vectors: Float32Array;
  private idList: string[] = [];
  private readonly positions = new Map<string, number>();
  private dimension: number | null;

  constructor(options: EmbeddingIndexOptions = {}) {
    if (options.dim !== undefined && !(Number.isInteger(options.dim) && options.dim > 0)) {
      throw new WebInferError(
        'INVALID_ARGUMENT',
        `EmbeddingIndex: option "dim" must be a positive integer, received ${describe(options.dim)}.`,
        { option: 'dim', received: options.dim },
      );
    }
    this.dimension = options.dim ?? null;
    this.vectors = new Float32Array((this.dimension ?? 0) * 16);
  }

  /** Embedding size, or null before the first vector when not given. */
  get dim(): number | null {
    return this.dimension;
  }

  get size(): number {
    return this.idList.length;
  }

  /** Ids in insertion order (removals move the last entry into the hole). */
  ids(): string[] {
    return [...this.idList];
  }

  has(id: string): boolean {
    return this.positions.has(id);
  }

  /** The stored (unit-length) vector of `id`, copied. */
  get(id: string): Float32Array | undefined {
    const at = this.positions.get(id);
    if (at === undefined) return undefined;
    const d = this.dimension!;
    return this.vectors.slice(at * d, (at + 1) * d);
  }

  /** Adds `embedding` under `id`, replacing the vector an existing `id` had. */
  add(id: string, embedding: ArrayLike<number>): this {
    if (typeof id !== 'string' || id.length === 0) {
      throw new WebInferError(
        'INVALID_ARGUMENT',
        `EmbeddingIndex.add: id must be a non-empty string, received ${describe(id)}.`,
        { received: id },
      );
    }
    const v = this.checkVector(embedding, 'EmbeddingIndex.add');
    const d = this.dimension!;
    let at = this.positions.get(id);
    if (at === undefined) {
      at = this.idList.length;
      this.grow(at + 1);
      this.idList.push(id);
      this.positions.set(id, at);
    }
    const n = norm(v);
    for (let i = 0; i < d; i++) this.vectors[at * d + i] = n === 0 ? 0 : v[i]! / n;
    return this;
  }

  /** Adds many `[id, embedding]` pairs. */
  addAll(entries: Iterable<readonly [string, ArrayLike<number>]>): this {
    for (const [id, v] of entries) this.add(id, v);
    return this;
  }

  /** Removes `id`; returns whether it was there. */
  remove(id: string): boolean {
    const at = this.positions.get(id);
    if (at === undefined) return false;
    const last = this.idList.length - 1;
    const d = this.dimension!;
    if (at !== last) {
      const lastId = this.idList[last]!;
      this.vectors.copyWithin(at * d, last * d, (last + 1) * d);
      this.idList[at] = lastId;
      this.positions.set(lastId, at);
    }
    this.idList.pop();
    this.positions.delete(id);
    return true;
  }

  clear(): void {
    this.idList = [];
    this.positions.clear();
  }

  /**
   * The `k` entries most similar to `query` by cosine similarity, best first (ties by id).
   * `filter` can exclude ids (for example the query's own).
   */
  search(query: ArrayLike<number>, k = 10, filter?: (id: string) => boolean): SearchHit[] {
    if (!(Number.isInteger(k) && k >= 0)) {
      throw new WebInferError(
        'INVALID_ARGUMENT',
        `EmbeddingIndex.search: k must be a non-negative integer, received ${describe(k)}.`,
        { option: 'k', received: k },
      );
    }
    // An index that never saw a vector has no dimension to check the query against.
    if (this.dimension === null) return [];
    const q = this.checkVector(query, 'EmbeddingIndex.search');
    if (this.size === 0 || k === 0) return [];
    const d = this.dimension!;
    const qn = norm(q);
    // Keep the best k in a small sorted array: k is small next to the index size.
    const best: SearchHit[] = [];
    for (let row = 0; row < this.idList.length; row++) {
      const id = this.idList[row]!;
      if (filter !== undefined && !filter(id)) continue;
      let dot = 0;
      const base = row * d;
      for (let i = 0; i < d; i++) dot += this.vectors[base + i]! * q[i]!;
      const score = qn === 0 ? 0 : Math.max(-1, Math.min(1, dot / qn));
      if (best.length === k && !better(score, id, best[k - 1]!)) continue;
      let at = best.length;
      while (at > 0 && better(score, id, best[at - 1]!)) at--;
      best.splice(at, 0, { id, score });
      if (best.length > k) best.pop();
    }
    return best;
  }

  /** The binary form: magic, a JSON header (ids, dim, CRC-32), then little-endian float32 rows. */
  toBytes(): Uint8Array {
    const d = this.dimension ?? 0;
    const body = new Uint8Array(this.size * d * 4);
    const view = new DataView(body.buffer);
    for (let i = 0; i < this.size * d; i++) view.setFloat32(i * 4, this.vectors[i]!, true);
    const header: Header = {
      format: FORMAT,
      version: VERSION,
      dim: d,
      count: this.size,
      ids: this.idList,
      crc32: crc32(body),
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    // Pad the header so the rows start 4-byte aligned.
    const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
    const out = new Uint8Array(MAGIC.length + 4 + json.length + pad + body.length);
    out.set(new TextEncoder().encode(MAGIC), 0);
    new DataView(out.buffer).setUint32(MAGIC.length, json.length + pad, true);
    out.set(json, MAGIC.length + 4);
    out.fill(0x20, MAGIC.length + 4 + json.length, MAGIC.length + 4 + json.length + pad);
    out.set(body, MAGIC.length + 4 + json.length + pad);
    return out;
  }

  /** Reads `toBytes()` output; throws CORRUPT_FILE on anything else. `what` names the source. */
  static fromBytes<T extends EmbeddingIndex>(
    this: new (
      options?: EmbeddingIndexOptions,
    ) => T,
    bytes: Uint8Array,
    what = 'the index',
  ): T {
    const fail = (why: string) =>
      new WebInferError(
        'CORRUPT_FILE',
        `Cannot read ${what} as an ebm.js embedding index: ${why}.`,
        {
          source: what,
        },
      );
    if (!(bytes instanceof Uint8Array)) throw fail(`expected bytes, received ${describe(bytes)}`);
    if (
      bytes.length < MAGIC.length + 4 ||
      new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC
    ) {
      throw fail('it does not start with the "EBMJSIDX" signature');
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = view.getUint32(MAGIC.length, true);
    const bodyStart = MAGIC.length + 4 + headerLength;
    if (bodyStart > bytes.length) throw fail('the header runs past the end (truncated file)');
    let header: Header;
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, bodyStart)));
    } catch {
      throw fail('the header is not valid JSON');
    }
    if (header.format !== FORMAT || header.version !== VERSION) {
      throw fail(
        `unknown format ${JSON.stringify(header.format)} version ${JSON.stringify(header.version)} (this version reads ${FORMAT} ${VERSION})`,
      );
    }
    const { dim, count, ids } = header;
    if (
      !Number.isInteger(dim) ||
      !Number.isInteger(count) ||
      !Array.isArray(ids) ||
      ids.length !== count
    ) {
      throw fail('the header has an inconsistent dim, count or id list');
    }
    const body = bytes.subarray(bodyStart);
    if (body.length !== count * dim * 4) {
      throw fail(`expected ${count * dim * 4} bytes of vectors, found ${body.length}`);
    }
    if (crc32(body) !== header.crc32) throw fail('the vector data fails its CRC-32 check');
    const index = new this(dim > 0 ? { dim } : {});
    const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const row = new Float32Array(dim);
    ids.forEach((id, r) => {
      for (let i = 0; i < dim; i++) row[i] = bodyView.getFloat32((r * dim + i) * 4, true);
      index.add(id, row);
    });
    return index;
  }

  private checkVector(v: ArrayLike<number>, where: string): ArrayLike<number> {
    if (typeof v !== 'object' || v === null || typeof v.length !== 'number') {
      throw new WebInferError(
        'INVALID_ARGUMENT',
        `${where}: embedding must be a Float32Array or an array of numbers, received ${describe(v)}.`,
        { received: describe(v) },
      );
    }
    if (this.dimension === null) {
      if (v.length === 0) {
        throw new WebInferError('INVALID_ARGUMENT', `${where}: embedding is empty.`, {
          received: 0,
        });
      }
      this.dimension = v.length;
      this.vectors = new Float32Array(v.length * 16);
    }
    if (v.length !== this.dimension) {
      throw new WebInferError(
        'SHAPE_MISMATCH',
        `${where}: embedding has ${v.length} values but the index holds ${this.dimension}-dimensional vectors.`,
        { expected: this.dimension, received: v.length },
      );
    }
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) {
        throw new WebInferError(
          'INVALID_ARGUMENT',
          `${where}: embedding value ${i} is ${v[i]}; embeddings must be finite.`,
          { index: i, received: v[i] },
        );
      }
    }
    return v;
  }

  private grow(rows: number): void {
    const d = this.dimension!;
    if (rows * d <= this.vectors.length) return;
    const next = new Float32Array(Math.max(rows, this.idList.length * 2, 16) * d);
    next.set(this.vectors.subarray(0, this.idList.length * d));
    this.vectors = next;
  }
}

/** Orders hits: higher score first, ties by id, so results are deterministic. */
function better(score: number, id: string, than: SearchHit): boolean {
  return score > than.score || (score === than.score && id < than.id);
}
