import type { EpochRecord, StepEvent, TrainingCallbacks } from './events.js';

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
    : `${m}:${String(sec).padStart(2, '0')}`;
}

/** Accuracies, printed as percentages: the monitors' `knn` and `linearProbe`, `*acc*` keys. */
const FRACTIONS = new Set(['knn', 'linear', 'linearProbe']);
const isFraction = (key: string) => FRACTIONS.has(key) || key.toLowerCase().includes('acc');

export function formatStep(e: StepEvent, width = 24): string {
  const done = e.totalSteps === 0 ? 1 : e.globalStep / e.totalSteps;
  const filled = Math.round(done * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  return (
    `epoch ${e.epoch + 1}/${e.epochs} ${bar} ${e.step + 1}/${e.stepsPerEpoch} ` +
    `loss ${e.loss.toFixed(4)}  ${e.imagesPerSecond.toFixed(0)} img/s  ETA ${formatSeconds(e.etaSeconds)}`
  );
}

export interface ProgressBarOptions {
  /** On a pipe or log file: one step line at most this often (default 60; 0 = only epochs). */
  logEverySeconds?: number;
}

/** stderr in Node; in a browser (no `process`) the console, one line per call. */
function defaultStream(): { write(s: string): unknown; isTTY?: boolean } {
  const stderr = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process
    ?.stderr;
  return stderr ?? { write: (s: string) => console.log(s.replace(/\n$/, '')) };
}

/**
 * A live progress bar (epoch, step, loss, images/s, ETA) redrawn in place on a terminal; on a
 * pipe or log file it prints a plain step line every `logEverySeconds` and one line per epoch,
 * so logs stay readable and a long run still shows it is alive.
 */
export function progressBar(
  stream: { write(s: string): unknown; isTTY?: boolean } = defaultStream(),
  { logEverySeconds = 60 }: ProgressBarOptions = {},
): TrainingCallbacks {
  let last = 0;
  let lastLogged = Date.now();
  return {
    onStepEnd(e) {
      const now = Date.now();
      if (!stream.isTTY) {
        if (logEverySeconds <= 0 || now - lastLogged < logEverySeconds * 1000) return;
        lastLogged = now;
        stream.write(`${formatStep(e)}\n`);
        return;
      }
      if (now - last < 100 && e.step + 1 < e.stepsPerEpoch) return;
      last = now;
      stream.write(`\r\x1b[2K${formatStep(e)}`);
    },
    onEpochEnd(r: EpochRecord) {
      const metrics = Object.entries(r.metrics ?? {})
        .filter(([k]) => k !== 'step') // the monitors' step: the epoch line says where it is
        .map(([k, v]) => `${k} ${isFraction(k) ? `${(v * 100).toFixed(1)}%` : v.toFixed(4)}`)
        .join('  ');
      const line = `epoch ${r.epoch + 1}: loss ${r.loss.toFixed(4)}  ${r.imagesPerSecond.toFixed(0)} img/s  ${r.seconds.toFixed(1)} s${metrics ? `  ${metrics}` : ''}`;
      stream.write(stream.isTTY ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}
