import { EbmError } from '@ebmjs/core';
import { writeFileAtomic } from '../io/write-file-atomic.js';

/**
 * Returns the bytes at `path` if they match `md5`; otherwise downloads them from the first URL
 * that answers with matching bytes, writes them atomically (temp file, then rename) and returns
 * them. A corrupt cache entry is replaced, never trusted.
 */
export async function downloadVerified({
  urls,
  md5,
  path,
}: {
  urls: readonly string[];
  md5: string;
  path: string;
}): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  const { createHash } = await import('node:crypto');
  const digest = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

  const cached = await fs.readFile(path).catch(() => null);
  if (cached && digest(cached) === md5) return new Uint8Array(cached);

  const failures: string[] = [];
  for (const url of urls) {
    try {
      const response = await fetch(url);
      if (!response.ok) {
        failures.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      const got = digest(bytes);
      if (got !== md5) {
        failures.push(`${url}: checksum ${got}, expected ${md5}`);
        continue;
      }
      await writeFileAtomic(path, bytes);
      return bytes;
    } catch (error) {
      failures.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new EbmError(
    'IO',
    `Could not download a verified copy of ${path}: ${failures.join('; ')}`,
    { urls, md5 },
  );
}
