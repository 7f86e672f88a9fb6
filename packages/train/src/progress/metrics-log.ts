import type { EpochRecord, TrainingCallbacks } from './events.js';

/** Appends one JSON line per epoch to `path` (runs/<name>/metrics.jsonl). */
export function metricsLog(path: string): TrainingCallbacks {
  return {
    async onEpochEnd(record: EpochRecord) {
      const fs = await import('node:fs/promises');
      const { dirname } = await import('node:path');
      await fs.mkdir(dirname(path), { recursive: true });
      await fs.appendFile(path, `${JSON.stringify(record)}\n`);
    },
  };
}

/** Reads a metrics.jsonl back. */
export async function readMetrics(path: string): Promise<EpochRecord[]> {
  const fs = await import('node:fs/promises');
  const text = await fs.readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as EpochRecord);
}
