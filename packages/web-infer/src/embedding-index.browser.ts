import { EmbeddingIndex as BaseEmbeddingIndex } from './embedding-index.js';
import { badSource, bytesFromObject, fetchBytes } from './model-source.js';

/** EmbeddingIndex that saves to a Blob (download it, or put it in IndexedDB) and loads from a URL, Blob, Response or bytes. */
export class EmbeddingIndex extends BaseEmbeddingIndex {
  /** The index as an `application/octet-stream` Blob. */
  save(): Blob {
    return new Blob([this.toBytes() as BlobPart], { type: 'application/octet-stream' });
  }

  /** Reads an index from a URL, Blob/File, fetch Response or bytes. */
  static async load(
    source: string | URL | Blob | Response | Uint8Array | ArrayBuffer,
  ): Promise<EmbeddingIndex> {
    const fromObject = await bytesFromObject(source, 'index');
    if (fromObject !== undefined)
      return EmbeddingIndex.fromBytes(fromObject.bytes, fromObject.name);
    if (typeof source === 'string' || source instanceof URL) {
      const url = new URL(String(source), globalThis.location?.href).href;
      return EmbeddingIndex.fromBytes(await fetchBytes(url), url);
    }
    throw badSource('EmbeddingIndex.load', source, 'a URL, Blob, Response or bytes');
  }
}
