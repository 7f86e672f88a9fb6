import type { EbmError } from './errors.js';
import type { Sample } from './preprocess.js';

/** Resolves after pending I/O callbacks and timers of this turn have run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/** Runs one batch: `data` holds `count` samples of `dims` back to back; returns one row each. */
export type BatchRunner = (
  data: Float32Array,
  count: number,
  dims: number[],
) => Promise<Float32Array[]>;

interface Request {
  samples: Sample[];
  key: string;
  resolve: (rows: Float32Array[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Serializes inference on one ORT session (sessions are not re-entrant, onnxruntime-web rejects
 * a second concurrent run) and coalesces concurrent requests with equal sample shapes into
 * batches of up to `maxBatch`, so 200 single-image calls cost a few runs, not 200.
 */
export class SessionQueue {
  private readonly pending: Request[] = [];
  private running: Promise<void> | null = null;
  private closed: EbmError | null = null;

  constructor(
    private readonly run: BatchRunner,
    private readonly maxBatch: number,
  ) {}

  /** Number of requests waiting (not counting the batch running now). */
  get waiting(): number {
    return this.pending.length;
  }

  submit(samples: Sample[]): Promise<Float32Array[]> {
    if (this.closed !== null) return Promise.reject(this.closed);
    if (samples.length === 0) return Promise.resolve([]);
    const key = samples[0]!.dims.join('x');
    if (samples.some((s) => s.dims.join('x') !== key)) {
      // Mixed shapes (free-size models): one request per shape group, reassembled in order.
      return this.submitMixed(samples);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ samples, key, resolve, reject });
      this.pump();
    });
  }

  private async submitMixed(samples: Sample[]): Promise<Float32Array[]> {
    const groups = new Map<string, number[]>();
    samples.forEach((s, i) => {
      const k = s.dims.join('x');
      const list = groups.get(k) ?? [];
      list.push(i);
      groups.set(k, list);
    });
    const out: Float32Array[] = new Array(samples.length);
    await Promise.all(
      [...groups.values()].map(async (idx) => {
        const rows = await this.submit(idx.map((i) => samples[i]!));
        idx.forEach((i, j) => {
          out[i] = rows[j]!;
        });
      }),
    );
    return out;
  }

  /** Rejects everything queued; the batch running now finishes. Resolves when it has. */
  async close(error: EbmError): Promise<void> {
    this.closed = error;
    for (const r of this.pending.splice(0)) r.reject(error);
    await this.running;
  }

  private pump(): void {
    if (this.running !== null || this.pending.length === 0) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      this.pump();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && this.closed === null) {
      // One event-loop turn lets concurrent callers (still decoding) join this batch; without it
      // a synchronous runtime (wasm on the main thread) would run every call alone.
      await nextTurn();
      if (this.pending.length === 0 || this.closed !== null) return;
      const first = this.pending[0]!;
      if (first.samples.length >= this.maxBatch) {
        // A large request runs alone, split into full batches.
        this.pending.shift();
        await this.runRequests([first], true);
        continue;
      }
      // Take every waiting request of the same shape that still fits in one batch.
      const group: Request[] = [];
      let count = 0;
      for (let i = 0; i < this.pending.length; ) {
        const r = this.pending[i]!;
        if (r.key === first.key && count + r.samples.length <= this.maxBatch) {
          group.push(r);
          count += r.samples.length;
          this.pending.splice(i, 1);
        } else i++;
      }
      await this.runRequests(group, false);
    }
  }

  private async runRequests(group: Request[], split: boolean): Promise<void> {
    try {
      if (split) {
        const r = group[0]!;
        const rows: Float32Array[] = [];
        for (let i = 0; i < r.samples.length; i += this.maxBatch) {
          rows.push(...(await this.runSamples(r.samples.slice(i, i + this.maxBatch))));
        }
        r.resolve(rows);
        return;
      }
      const rows = await this.runSamples(group.flatMap((r) => r.samples));
      let at = 0;
      for (const r of group) {
        r.resolve(rows.slice(at, at + r.samples.length));
        at += r.samples.length;
      }
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // One request's input may have broken the shared batch: retry each alone.
      for (const r of group) await this.runRequests([r], false);
    }
  }

  private async runSamples(samples: Sample[]): Promise<Float32Array[]> {
    const size = samples[0]!.data.length;
    const data = new Float32Array(size * samples.length);
    samples.forEach((s, i) => data.set(s.data, i * size));
    return this.run(data, samples.length, samples[0]!.dims);
  }
}
