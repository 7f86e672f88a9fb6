import { crc32 } from '@ebmjs/contract';
import { norm } from './cosine.js';
import { describe, EbmError } from './errors.js';

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
/**
 * 2: a CRC-32 of every byte before it ends the file (magic, header, rows). 1 (still read): the
 * header held a CRC-32 of the rows only.
 */
const VERSION = 2;
const READS = 'versions 1 and 2';

interface Header {
  format: string;
  version: number;
  dim: number;
  count: number;
  ids: string[];
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
      throw new EbmError(
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

  /**
   * Adds `embedding` under a new `id`; an id already in the index is an INVALID_ARGUMENT (use
   * `set` to replace a vector).
   */
  add(id: string, embedding: ArrayLike<number>): this {
    return this.addAll([[id, embedding]]);
  }

  /** Stores `embedding` under `id`, replacing the vector `id` had or adding it. */
  set(id: string, embedding: ArrayLike<number>): this {
    checkId(id, 'EmbeddingIndex.set');
    this.checkVector(embedding, 'EmbeddingIndex.set', this.dimension);
    this.write(id, embedding);
    return this;
  }

  /**
   * Adds many `[id, embedding]` pairs, all or none: every id must be new and appear once, and
   * every vector valid, before the first is stored.
   */
  addAll(entries: Iterable<readonly [string, ArrayLike<number>]>): this {
    const list = [...entries];
    const seen = new Set<string>();
    let dim = this.dimension;
    for (const [id, v] of list) {
      checkId(id, 'EmbeddingIndex.add');
      if (this.positions.has(id) || seen.has(id)) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `EmbeddingIndex.add: id ${describe(id)} is already in the ${this.positions.has(id) ? 'index' : 'entries being added'}; ids must be unique (set() replaces a vector).`,
          { id },
        );
      }
      seen.add(id);
      dim = this.checkVector(v, 'EmbeddingIndex.add', dim);
    }
    for (const [id, v] of list) this.write(id, v);
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
      throw new EbmError(
        'INVALID_ARGUMENT',
        `EmbeddingIndex.search: k must be a non-negative integer, received ${describe(k)}.`,
        { option: 'k', received: k },
      );
    }
    // An index that never saw a vector has no dimension to check the query against.
    if (this.dimension === null) return [];
    const q = query;
    this.checkVector(q, 'EmbeddingIndex.search', this.dimension);
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

  /**
   * The binary form: magic, a u32 header length, a JSON header (format, version, dim, count,
   * ids), little-endian float32 rows exactly as stored, then a u32 CRC-32 of all bytes before it.
   * The same index always gives the same bytes, and `fromBytes` gives back the same bits.
   */
  toBytes(): Uint8Array {
    const d = this.dimension ?? 0;
    const header: Header = {
      format: FORMAT,
      version: VERSION,
      dim: d,
      count: this.size,
      ids: this.idList,
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    // Pad the header so the rows start 4-byte aligned.
    const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
    const bodyStart = MAGIC.length + 4 + json.length + pad;
    const out = new Uint8Array(bodyStart + this.size * d * 4 + 4);
    const view = new DataView(out.buffer);
    out.set(new TextEncoder().encode(MAGIC), 0);
    view.setUint32(MAGIC.length, json.length + pad, true);
    out.set(json, MAGIC.length + 4);
    out.fill(0x20, MAGIC.length + 4 + json.length, bodyStart);
    for (let i = 0; i < this.size * d; i++)
      view.setFloat32(bodyStart + i * 4, this.vectors[i]!, true);
    view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
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
      new EbmError('CORRUPT_FILE', `Cannot read ${what} as an ebm.js embedding index: ${why}.`, {
        source: what,
      });
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
    let header: Partial<Header> & { crc32?: unknown };
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, bodyStart)));
    } catch {
      header = {};
    }
    const isObject = typeof header === 'object' && header !== null && !Array.isArray(header);
    const version = isObject ? header.version : undefined;
    // Version 2 (and anything that does not parse as version 1): check the whole file first, so
    // no byte of the magic, the header or the rows goes unchecked.
    let bodyEnd = bytes.length;
    if (version !== 1) {
      if (bytes.length < bodyStart + 4)
        throw fail('the file ends before its CRC-32 (truncated file)');
      bodyEnd = bytes.length - 4;
      if (crc32(bytes.subarray(0, bodyEnd)) !== view.getUint32(bodyEnd, true))
        throw fail('the file fails its CRC-32 check (it is truncated or altered)');
    }
    if (!isObject) throw fail('the header is not a JSON object');
    if (header.format !== FORMAT || (version !== 1 && version !== VERSION)) {
      throw fail(
        `unknown format ${JSON.stringify(header.format)} version ${JSON.stringify(version)} (this version reads ${FORMAT} ${READS})`,
      );
    }
    const { dim, count, ids } = header;
    if (
      !Number.isInteger(dim) ||
      !Number.isInteger(count) ||
      dim! < 0 ||
      count! < 0 ||
      (dim === 0 && count! > 0) ||
      !Array.isArray(ids) ||
      ids.length !== count
    ) {
      throw fail(
        `the header has an inconsistent dim (${describe(dim)}), count (${describe(count)}) or id list (${describe(ids)})`,
      );
    }
    const seen = new Set<string>();
    ids.forEach((id: unknown, i) => {
      if (typeof id !== 'string' || id.length === 0)
        throw fail(`id ${i} is ${describe(id)}; ids must be a non-empty string`);
      if (seen.has(id)) throw fail(`duplicate id ${describe(id)} (at ${i})`);
      seen.add(id);
    });
    const body = bytes.subarray(bodyStart, bodyEnd);
    if (body.length !== count! * dim! * 4) {
      throw fail(`expected ${count! * dim! * 4} bytes of vectors, found ${body.length}`);
    }
    if (version === 1 && crc32(body) !== header.crc32)
      throw fail('the vector data fails its CRC-32 check');
    const vectors = new Float32Array(Math.max(count!, 16) * dim!);
    const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < count! * dim!; i++) {
      const x = bodyView.getFloat32(i * 4, true);
      if (!Number.isFinite(x))
        throw fail(
          `value ${i % dim!} of id ${describe(ids[Math.floor(i / dim!)])} is ${x}; embeddings must be finite`,
        );
      vectors[i] = x;
    }
    // The rows as stored, not re-normalised, so a load gives back the saved bits.
    const index = new this(dim! > 0 ? { dim } : {});
    index.vectors = vectors;
    index.idList = [...(ids as string[])];
    index.idList.forEach((id, r) => index.positions.set(id, r));
    return index;
  }

  /** Validates `v` against `dim` (any size when null); returns the dimension it sets. */
  private checkVector(v: ArrayLike<number>, where: string, dim: number | null): number {
    if (typeof v !== 'object' || v === null || typeof v.length !== 'number') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: embedding must be a Float32Array or an array of numbers, received ${describe(v)}.`,
        { received: describe(v) },
      );
    }
    if (dim === null && v.length === 0) {
      throw new EbmError('INVALID_ARGUMENT', `${where}: embedding is empty.`, {
        received: 0,
      });
    }
    if (dim !== null && v.length !== dim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${where}: embedding has ${v.length} values but the index holds ${dim}-dimensional vectors.`,
        { expected: dim, received: v.length },
      );
    }
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `${where}: embedding value ${i} is ${v[i]}; embeddings must be finite.`,
          { index: i, received: v[i] },
        );
      }
    }
    return v.length;
  }

  /** Stores the unit-length `v` (checked) under `id`, in its row or a new one. */
  private write(id: string, v: ArrayLike<number>): void {
    if (this.dimension === null) {
      this.dimension = v.length;
      this.vectors = new Float32Array(v.length * 16);
    }
    const d = this.dimension;
    let at = this.positions.get(id);
    if (at === undefined) {
      at = this.idList.length;
      this.grow(at + 1);
      this.idList.push(id);
      this.positions.set(id, at);
    }
    const n = norm(v);
    for (let i = 0; i < d; i++) this.vectors[at * d + i] = n === 0 ? 0 : v[i]! / n;
  }

  private grow(rows: number): void {
    const d = this.dimension!;
    if (rows * d <= this.vectors.length) return;
    const next = new Float32Array(Math.max(rows, this.idList.length * 2, 16) * d);
    next.set(this.vectors.subarray(0, this.idList.length * d));
    this.vectors = next;
  }
}

function checkId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: id must be a non-empty string, received ${describe(id)}.`,
      { received: id },
    );
  }
}

/** Orders hits: higher score first, ties by id, so results are deterministic. */
function better(score: number, id: string, than: SearchHit): boolean {
  return score > than.score || (score === than.score && id < than.id);
}
