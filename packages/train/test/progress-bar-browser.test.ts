import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressBar } from '../src/index.js';

// A browser has no `process`: progressBar() without a stream must still work there.
afterEach(() => vi.restoreAllMocks());

describe('progressBar outside Node', () => {
  it('writes epoch lines to the console when there is no process.stderr', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const saved = globalThis.process;
    let bar: ReturnType<typeof progressBar>;
    try {
      (globalThis as { process?: unknown }).process = undefined;
      bar = progressBar();
    } finally {
      globalThis.process = saved;
    }
    bar.onEpochEnd?.({ epoch: 0, loss: 1.5, imagesPerSecond: 100, seconds: 2 } as never);
    expect(log).toHaveBeenCalledWith('epoch 1: loss 1.5000  100 img/s  2.0 s');
  });
});
