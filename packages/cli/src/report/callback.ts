import { join } from 'node:path';
import type { EpochRecord, StepRecord, TrainingCallbacks } from '@ebmjs/train';
import { type EmbeddingPartsOptions, embeddingParts, readRunLog } from './collect.js';
import { type ReportInput, writeReport } from './html.js';

export interface ReportCallbackOptions extends EmbeddingPartsOptions {
  /** Where report.html goes (rewritten atomically after every epoch). */
  path: string;
  title: string;
  /** The run directory whose metrics.jsonl the curves read; without it, the records seen here. */
  runDir?: string;
  /** The planned epochs, for the status line. */
  epochs?: number;
  settings?: Record<string, unknown>;
  /** A report that fails is reported here, and training goes on (default: rethrow). */
  onError?: (error: unknown) => void;
}

/**
 * Training callbacks that rewrite report.html at the end of every epoch, with the encoder as it
 * is then (inference mode), so reloading the page shows a running job. The curves read the
 * run's metrics.jsonl, which the loop appends to before it calls onEpochEnd.
 */
export function reportCallbacks(options: ReportCallbackOptions): TrainingCallbacks {
  const seen: EpochRecord[] = [];
  const started = performance.now();
  return {
    async onEpochEnd(record) {
      seen.push(record);
      try {
        const log: { history: readonly EpochRecord[]; steps: readonly StepRecord[] } =
          options.runDir ? await readRunLog(options.runDir) : { history: seen, steps: [] };
        const parts = await embeddingParts(options);
        const input: ReportInput = {
          title: options.title,
          status: `running: epoch ${record.epoch + 1}${options.epochs ? ` of ${options.epochs}` : ''} done after ${((performance.now() - started) / 1000).toFixed(0)} s (written ${new Date().toISOString()}); reload to update`,
          ...(options.settings ? { settings: options.settings } : {}),
          history: log.history,
          steps: log.steps,
          ...parts,
        };
        await writeReport(options.path, input);
      } catch (error) {
        if (!options.onError) throw error;
        options.onError(error);
      }
    },
  };
}

/** `<runDir>/report.html`. */
export const reportPath = (runDir: string): string => join(runDir, 'report.html');
