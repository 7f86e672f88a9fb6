import { crc32Hex } from '@ebmjs/contract';
import { EbmError } from '@ebmjs/core';
import type { Storage } from './storage.js';

/**
 * The on-disk layout shared by every save: payload files whose names carry their CRC-32
 * (`weights.1a2b3c4d.bin`), and `manifest.json`, written last, that lists them with sizes and
 * checksums. Payloads never overwrite a file the current manifest points to with other bytes,
 * so until the manifest's atomic rename the old save stays whole, and after it the new one is.
 */
export const MANIFEST = 'manifest.json';
export const FORMAT = 'ebmjs-models';
export const FORMAT_VERSION = 1;

const ENTRY = /^[a-z0-9_-]+$/;
const PAYLOAD = /^[a-z0-9_-]+\.[0-9a-f]{8}\.bin$/;

export interface FileRecord {
  path: string;
  bytes: number;
  crc32: string;
}

export interface Manifest {
  format: typeof FORMAT;
  formatVersion: number;
  kind: string;
  createdBy: string;
  meta: Record<string, unknown>;
  files: Record<string, FileRecord>;
}

export interface RawBundle {
  kind: string;
  meta: Record<string, unknown>;
  /** Entry name → bytes. */
  entries: Record<string, Uint8Array>;
}

export async function writeRawBundle(storage: Storage, bundle: RawBundle): Promise<void> {
  const files: Record<string, FileRecord> = {};
  for (const [entry, data] of Object.entries(bundle.entries)) {
    if (!ENTRY.test(entry)) throw new Error(`internal: bad entry name ${entry}`);
    const crc = crc32Hex(data);
    const path = `${entry}.${crc}.bin`;
    await storage.write(path, data);
    files[entry] = { path, bytes: data.byteLength, crc32: crc };
  }
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    kind: bundle.kind,
    createdBy: '@ebmjs/models',
    meta: bundle.meta,
    files,
  };
  await storage.write(MANIFEST, new TextEncoder().encode(JSON.stringify(manifest, null, 2)));
  // Payloads of an earlier save in the same place are garbage once the new manifest is in.
  const live = new Set(Object.values(files).map((f) => f.path));
  for (const name of await storage.list()) {
    if (PAYLOAD.test(name) && !live.has(name)) await storage.remove(name);
  }
}

export async function readRawBundle(storage: Storage, expectedKind: string): Promise<RawBundle> {
  const where = storage.location;
  const corrupt = (message: string, details: Record<string, unknown> = {}) =>
    new EbmError('CORRUPT_FILE', `${where}: ${message}`, { path: where, ...details });
  const bytes = await storage.read(MANIFEST);
  if (bytes === undefined) {
    if (!(await storage.exists())) {
      throw new EbmError('IO', `${where} does not exist.`, { path: where });
    }
    throw corrupt(`no ${MANIFEST}: not an ebm.js save, or a save that never completed.`);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Manifest;
  } catch (error) {
    throw corrupt(
      `${MANIFEST} is not valid JSON (truncated or corrupt): ${(error as Error).message}`,
    );
  }
  if (manifest === null || typeof manifest !== 'object' || manifest.format !== FORMAT) {
    throw corrupt(`${MANIFEST} is not an ${FORMAT} manifest.`);
  }
  if (manifest.formatVersion !== FORMAT_VERSION) {
    throw corrupt(
      `format version ${String(manifest.formatVersion)} is not supported (this version reads ${FORMAT_VERSION}).`,
      { expected: FORMAT_VERSION, received: manifest.formatVersion },
    );
  }
  if (manifest.kind !== expectedKind) {
    throw corrupt(`holds a ${String(manifest.kind)} save, expected a ${expectedKind} save.`, {
      expected: expectedKind,
      received: manifest.kind,
    });
  }
  if (
    manifest.meta === null ||
    typeof manifest.meta !== 'object' ||
    manifest.files === null ||
    typeof manifest.files !== 'object'
  ) {
    throw corrupt(`${MANIFEST} lacks its meta or files section.`);
  }
  const entries: Record<string, Uint8Array> = {};
  for (const [entry, record] of Object.entries(manifest.files)) {
    const ok =
      record !== null &&
      typeof record === 'object' &&
      typeof record.path === 'string' &&
      PAYLOAD.test(record.path) &&
      Number.isInteger(record.bytes) &&
      typeof record.crc32 === 'string';
    if (!ok) throw corrupt(`${MANIFEST} has a malformed record for ${entry}.`);
    const data = await storage.read(record.path);
    if (data === undefined) throw corrupt(`${record.path} is missing.`, { file: record.path });
    if (data.byteLength !== record.bytes) {
      throw corrupt(
        `${record.path} has ${data.byteLength} bytes, the manifest says ${record.bytes}: the save is truncated or was overwritten.`,
        { file: record.path, expected: record.bytes, received: data.byteLength },
      );
    }
    const crc = crc32Hex(data);
    if (crc !== record.crc32) {
      throw corrupt(
        `${record.path} fails its checksum (crc32 ${crc}, expected ${record.crc32}): the file is corrupt.`,
        {
          file: record.path,
          expected: record.crc32,
          received: crc,
        },
      );
    }
    entries[entry] = data;
  }
  return { kind: manifest.kind, meta: manifest.meta, entries };
}
