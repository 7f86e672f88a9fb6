import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from '../src/batcher.js';

/** A batcher whose runs double each item, recording the batches it formed. */
function doubling(maxBatch: number, maxQueueDelayMs: number) {
  const batches: number[][] = [];
  let release: (() => void) | null = null;
  let hold = false;
  const batcher = new Batcher<number, number>({
    maxBatch,
    maxQueueDelayMs,
    run: async (items) => {
      batches.push(items);
      if (hold) await new Promise<void>((r) => (release = r));
      return items.map((x) => x * 2);
    },
  });
  return {
    batcher,
    batches,
    holdRuns: () => (hold = true),
    releaseRun: () => {
      hold = false;
      release?.();
    },
  };
}

describe('Batcher (dynamic batching)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('requests within the queue delay share one run; results go back to each in order', async () => {
    const { batcher, batches } = doubling(8, 5);
    const a = batcher.submit([1, 2]);
    await vi.advanceTimersByTimeAsync(3);
    const b = batcher.submit([3]);
    expect(batches).toEqual([]); // still waiting for the oldest request's delay
    await vi.advanceTimersByTimeAsync(2);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await a).toEqual([2, 4]);
    expect(await b).toEqual([6]);
  });

  it('a request arriving after the delay runs in the next batch', async () => {
    const { batcher, batches } = doubling(8, 5);
    const a = batcher.submit([1]);
    await vi.advanceTimersByTimeAsync(5);
    const b = batcher.submit([2]);
    await vi.advanceTimersByTimeAsync(5);
    await Promise.all([a, b]);
    expect(batches).toEqual([[1], [2]]);
  });

  it('a full batch runs at once, without waiting for the delay', async () => {
    const { batcher, batches } = doubling(4, 1000);
    const done = [batcher.submit([1, 2]), batcher.submit([3, 4]), batcher.submit([5])];
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1, 2, 3, 4]]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches).toEqual([[1, 2, 3, 4], [5]]);
    expect(await Promise.all(done)).toEqual([[2, 4], [6, 8], [10]]);
  });

  it('never exceeds maxBatch, except for one request that is larger on its own', async () => {
    const { batcher, batches } = doubling(3, 1);
    const done = [batcher.submit([1, 2]), batcher.submit([3, 4]), batcher.submit([5, 6, 7, 8])];
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all(done);
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
      [5, 6, 7, 8],
    ]);
  });

  it('only requests with the same key share a run', async () => {
    const { batcher, batches } = doubling(8, 2);
    const done = [
      batcher.submit([1], '3x4'),
      batcher.submit([2], '5x5'),
      batcher.submit([3], '3x4'),
    ];
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all(done);
    expect(batches).toEqual([[1, 3], [2]]);
  });

  it('while a run is in flight the next batch keeps filling, then runs when it ends', async () => {
    const { batcher, batches, holdRuns, releaseRun } = doubling(8, 1);
    holdRuns();
    const first = batcher.submit([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1]]);
    const later = [batcher.submit([2]), batcher.submit([3])];
    await vi.advanceTimersByTimeAsync(50); // far past the delay: the run is still in flight
    expect(batches).toEqual([[1]]);
    releaseRun();
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2, 3]]);
    expect(await first).toEqual([2]);
    expect(await Promise.all(later)).toEqual([[4], [6]]);
  });

  it('a run that fails is retried per request, so only the bad request fails', async () => {
    const batcher = new Batcher<number, number>({
      maxBatch: 8,
      maxQueueDelayMs: 1,
      run: async (items) => {
        if (items.includes(-1)) throw new Error('bad sample');
        return items;
      },
    });
    const good = batcher.submit([1, 2]);
    const bad = batcher.submit([-1]);
    bad.catch(() => {});
    await vi.advanceTimersByTimeAsync(5);
    expect(await good).toEqual([1, 2]);
    await expect(bad).rejects.toThrow('bad sample');
  });

  it('close() runs what is queued, then refuses new requests', async () => {
    const { batcher, batches } = doubling(8, 100);
    const queued = batcher.submit([1]);
    const closed = batcher.close(new Error('closing'));
    await vi.advanceTimersByTimeAsync(100);
    await closed;
    expect(await queued).toEqual([2]);
    expect(batches).toEqual([[1]]);
    await expect(batcher.submit([2])).rejects.toThrow('closing');
  });

  it('with maxQueueDelayMs 0 a lone request runs without a timer', async () => {
    const { batcher, batches } = doubling(8, 0);
    const a = batcher.submit([7]);
    expect(batches).toEqual([[7]]);
    expect(await a).toEqual([14]);
  });
});
