/**
 * Dynamic batching, as Triton's dynamic batcher does it: requests that arrive within
 * `maxQueueDelayMs` of the oldest waiting one share one model run of at most `maxBatch` items.
 * One run is in flight at a time (an ORT session runs one batch at a time anyway), so while the
 * model is busy the next batch keeps filling. Requests carry a key (their sample shape): only
 * equal keys share a run.
 */
export interface BatcherOptions<T, R> {
  /** Most items per run; a request with more runs alone. */
  maxBatch: number;
  /** How long the oldest waiting request may wait for others before its batch runs. */
  maxQueueDelayMs: number;
  /** Runs one batch; returns one result per item, in order. */
  run: (items: T[], key: string) => Promise<R[]>;
  /** Called with the size of each batch before it runs (metrics). */
  onBatch?: (size: number) => void;
}

interface Pending<T, R> {
  items: T[];
  key: string;
  at: number;
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
}

export class Batcher<T, R> {
  private readonly queue: Pending<T, R>[] = [];
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private idleWaiters: (() => void)[] = [];
  private closedWith: Error | null = null;

  constructor(private readonly options: BatcherOptions<T, R>) {}

  /** Requests waiting (not counting the batch running now). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Queues `items` for a shared run; resolves with their results, in order. */
  submit(items: T[], key = ''): Promise<R[]> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, key, at: Date.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running (queued requests still run). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new requests with `error`; those already queued still run. */
  close(error: Error): Promise<void> {
    this.closedWith = error;
    return this.idle();
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    const first = this.queue[0]!;
    const waited = Date.now() - first.at;
    const full = this.countOf(first.key) >= this.options.maxBatch;
    if (full || waited >= this.options.maxQueueDelayMs) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, this.options.maxQueueDelayMs - waited);
  }

  private countOf(key: string): number {
    let n = 0;
    for (const p of this.queue) if (p.key === key) n += p.items.length;
    return n;
  }

  private async flush(): Promise<void> {
    this.running = true;
    // The oldest request and every later one of its key that still fits, in arrival order.
    const key = this.queue[0]!.key;
    const group: Pending<T, R>[] = [];
    let count = 0;
    for (let i = 0; i < this.queue.length; ) {
      const p = this.queue[i]!;
      if (
        p.key === key &&
        (group.length === 0 || count + p.items.length <= this.options.maxBatch)
      ) {
        group.push(p);
        count += p.items.length;
        this.queue.splice(i, 1);
      } else i++;
    }
    try {
      await this.runGroup(group);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async runGroup(group: Pending<T, R>[]): Promise<void> {
    const items = group.flatMap((p) => p.items);
    this.options.onBatch?.(items.length);
    let results: R[];
    try {
      results = await this.options.run(items, group[0]!.key);
      if (results.length !== items.length) {
        throw new Error(`batch run returned ${results.length} results for ${items.length} items`);
      }
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // One request may have broken the shared run: each runs alone, so only it fails.
      for (const p of group) await this.runGroup([p]);
      return;
    }
    let at = 0;
    for (const p of group) {
      p.resolve(results.slice(at, at + p.items.length));
      at += p.items.length;
    }
  }
}
