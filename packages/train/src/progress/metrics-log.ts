import { EbmError } from '@ebmjs/core';
import { writeFileAtomic } from '../io/write-file-atomic.js';
import type { EpochRecord, TrainingCallbacks } from './events.js';

/**
 * Appends one JSON line to `path`. A torn last line (a crash in the middle of an append) is cut
 * off first, so the new record starts on a line of its own.
 */
export async function appendMetrics(path: string, record: EpochRecord): Promise<void> {
  const fs = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await fs.mkdir(dirname(path), { recursive: true });
  const handle = await fs.open(path, 'a+');
  try {
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        const text = await fs.readFile(path, 'utf8');
        await handle.truncate(Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
      }
    }
    await handle.appendFile(`${JSON.stringify(record)}\n`);
  } finally {
    await handle.close();
  }
}

/** Replaces `path` (atomically) by exactly these records, one JSON line each. */
export async function rewriteMetrics(path: string, records: readonly EpochRecord[]): Promise<void> {
  await writeFileAtomic(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** Appends one JSON line per epoch to `path` (runs/<name>/metrics.jsonl). */
export function metricsLog(path: string): TrainingCallbacks {
  return {
    async onEpochEnd(record: EpochRecord) {
      await appendMetrics(path, record);
    },
  };
}

/**
 * Reads a metrics.jsonl back. A torn final line (a crash while it was appended) is skipped; a
 * line that does not parse anywhere else is a CORRUPT_FILE error naming the file and line.
 */
export async function readMetrics(path: string): Promise<EpochRecord[]> {
  const fs = await import('node:fs/promises');
  const text = await fs.readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new EbmError('IO', `Cannot read ${path}: ${error.message}.`, { path });
  });
  const lines = text.split('\n');
  // Only a last line without its newline can be torn by an interrupted append.
  const torn = !text.endsWith('\n');
  const records: EpochRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    try {
      records.push(JSON.parse(line) as EpochRecord);
    } catch {
      if (torn && i === lines.length - 1) return;
      throw new EbmError(
        'CORRUPT_FILE',
        `${path}: line ${i + 1} is not a JSON record (${JSON.stringify(line.slice(0, 60))}).`,
        { path, line: i + 1 },
      );
    }
  });
  return records;
}
