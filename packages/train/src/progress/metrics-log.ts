import { EbmError } from '@ebmjs/core';
import { writeFileAtomic } from '../io/write-file-atomic.js';
import type { EpochRecord, StepRecord, TrainingCallbacks } from './events.js';

/**
 * Appends one JSON line to `path`. A torn last line (a crash in the middle of an append) is cut
 * off first, so the new record starts on a line of its own.
 */
export async function appendMetrics(path: string, record: EpochRecord | StepRecord): Promise<void> {
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

/**
 * Rewrites the log of a run that resumes from a checkpoint at `lastStep`: the checkpoint's epoch
 * records (`history`), and the step records already in the log up to `lastStep` (those after
 * it, written by a run killed before its next checkpoint, go: the resume writes them again).
 * Epoch e's record follows the step records up to its last step, as the run wrote them.
 */
export async function resumeMetrics(
  path: string,
  history: readonly EpochRecord[],
  { lastStep, stepsPerEpoch }: { lastStep: number; stepsPerEpoch: number },
): Promise<void> {
  // An unreadable log loses only its step records: the epoch records come from the checkpoint.
  const log: (EpochRecord | StepRecord)[] = lastStep > 0 ? await readLog(path).catch(() => []) : [];
  const steps = log.filter(isStepRecord);
  const kept = steps.filter((r) => r.step <= lastStep);
  const lines: (EpochRecord | StepRecord)[] = [];
  let next = 0;
  for (const record of history) {
    const end = (record.epoch + 1) * stepsPerEpoch;
    while (next < kept.length && kept[next]!.step <= end) lines.push(kept[next++]!);
    lines.push(record);
  }
  lines.push(...kept.slice(next));
  await writeFileAtomic(
    path,
    lines
      .map(
        (r) => `${JSON.stringify(r)}
`,
      )
      .join(''),
  );
}

const isStepRecord = (r: EpochRecord | StepRecord): r is StepRecord =>
  (r as StepRecord).type === 'step';

/** Appends one JSON line per epoch to `path` (runs/<name>/metrics.jsonl). */
export function metricsLog(path: string): TrainingCallbacks {
  return {
    async onEpochEnd(record: EpochRecord) {
      await appendMetrics(path, record);
    },
  };
}

/**
 * Reads the epoch records of a metrics.jsonl back (step records: readStepMetrics). A torn final
 * line (a crash while it was appended) is skipped; a line that does not parse anywhere else is a
 * CORRUPT_FILE error naming the file and line.
 */
export async function readMetrics(path: string): Promise<EpochRecord[]> {
  return (await readLog(path)).filter((r): r is EpochRecord => !isStepRecord(r));
}

/** Reads the step records (`type: 'step'`) of a metrics.jsonl back, as readMetrics does. */
export async function readStepMetrics(path: string): Promise<StepRecord[]> {
  return (await readLog(path)).filter(isStepRecord);
}

async function readLog(path: string): Promise<(EpochRecord | StepRecord)[]> {
  const fs = await import('node:fs/promises');
  const text = await fs.readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new EbmError('IO', `Cannot read ${path}: ${error.message}.`, { path });
  });
  const lines = text.split('\n');
  // Only a last line without its newline can be torn by an interrupted append.
  const torn = !text.endsWith('\n');
  const records: (EpochRecord | StepRecord)[] = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    try {
      records.push(JSON.parse(line) as EpochRecord | StepRecord);
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
