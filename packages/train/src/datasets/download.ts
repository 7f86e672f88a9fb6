import { fsyncDirectory, removeStaleTempFiles } from '@ebmjs/contract/node';
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

/** MD5 of a file, read as a stream (archives of gigabytes never sit in memory), or null if absent. */
async function fileMd5(path: string): Promise<string | null> {
  const { createReadStream } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const hash = createHash('md5');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return null;
  }
  return hash.digest('hex');
}

/**
 * `downloadVerified` for files too large to hold in memory (dataset archives): returns `path`
 * once it holds bytes matching `md5`, streaming each download to a temp file beside it while
 * hashing, and renaming it into place only when the checksum matches. A failed, cut-short or
 * mismatching download leaves no file behind, and a corrupt cache entry is replaced.
 */
export async function downloadVerifiedFile({
  urls,
  md5,
  path,
}: {
  urls: readonly string[];
  md5: string;
  path: string;
}): Promise<string> {
  if ((await fileMd5(path)) === md5) return path;
  const { mkdir, open, rename, rm } = await import('node:fs/promises');
  const { randomBytes, createHash } = await import('node:crypto');
  const { basename, dirname, join } = await import('node:path');
  const dir = dirname(path);
  // Temp files of killed downloads; the name pattern is writeFileAtomic's, so they are found.
  await removeStaleTempFiles(dir).catch(() => undefined);
  const failures: string[] = [];
  for (const url of urls) {
    const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const response = await fetch(url);
      if (!response.ok || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        failures.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      await mkdir(dir, { recursive: true });
      const hash = createHash('md5');
      let received = 0;
      const handle = await open(tmp, 'wx');
      try {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          hash.update(value);
          await handle.write(value);
          received += value.length;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const got = hash.digest('hex');
      if (got !== md5) {
        failures.push(`${url}: checksum ${got} of ${received} bytes, expected ${md5}`);
        continue;
      }
      await rename(tmp, path);
      await fsyncDirectory(dir);
      return path;
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      const why = error instanceof Error ? error.message : String(error);
      failures.push(`${url}: ${why}${cause instanceof Error ? ` (${cause.message})` : ''}`);
    } finally {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }
  throw new EbmError(
    'IO',
    `Could not download a verified copy of ${path}: ${failures.join('; ')}`,
    { urls, md5 },
  );
}
