import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatStep, progressBar, type StepEvent } from '../src/index.js';

function step(i: number, stepsPerEpoch = 10): StepEvent {
  return {
    epoch: 0,
    epochs: 2,
    step: i,
    stepsPerEpoch,
    globalStep: i + 1,
    totalSteps: 2 * stepsPerEpoch,
    loss: 1.5,
    learningRate: 1e-3,
    imagesPerSecond: 120,
    etaSeconds: 125,
  };
}

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (s: string) => writes.push(s) }, writes };
}

afterEach(() => vi.useRealTimers());

describe('progressBar', () => {
  it('formats epoch, a bar of the whole run (5 of 20 steps), step, loss, throughput and ETA', () => {
    expect(formatStep(step(4), 10)).toBe(
      'epoch 1/2 ███░░░░░░░ 5/10 loss 1.5000  120 img/s  ETA 2:05',
    );
  });

  it('redraws in place on a terminal at most every 100 ms, and always on the last step', () => {
    vi.useFakeTimers({ now: 0 });
    const { stream, writes } = sink(true);
    const bar = progressBar(stream);
    vi.setSystemTime(1000);
    bar.onStepEnd?.(step(0));
    vi.setSystemTime(1050);
    bar.onStepEnd?.(step(1)); // too soon: skipped
    vi.setSystemTime(1200);
    bar.onStepEnd?.(step(2));
    vi.setSystemTime(1210);
    bar.onStepEnd?.(step(9)); // end of the epoch: drawn even though it is soon
    expect(writes).toHaveLength(3);
    for (const w of writes) expect(w.startsWith('\r\x1b[2K')).toBe(true);
    expect(writes[2]).toContain('10/10');
  });

  it('on a log file prints a plain step line every logEverySeconds and every epoch', () => {
    vi.useFakeTimers({ now: 0 });
    const { stream, writes } = sink(false);
    const bar = progressBar(stream, { logEverySeconds: 30 });
    for (let i = 0; i < 10; i++) {
      vi.setSystemTime((i + 1) * 10_000); // one step every 10 s
      bar.onStepEnd?.(step(i));
    }
    // Steps end at 10, 20, ..., 100 s: lines at 30, 60 and 90 s.
    expect(writes).toEqual([
      `${formatStep(step(2))}\n`,
      `${formatStep(step(5))}\n`,
      `${formatStep(step(8))}\n`,
    ]);
    bar.onEpochEnd?.({
      epoch: 0,
      loss: 1.25,
      learningRate: 1e-3,
      imagesPerSecond: 118,
      seconds: 100,
    });
    expect(writes[3]).toBe('epoch 1: loss 1.2500  118 img/s  100.0 s\n');
  });

  it('logEverySeconds 0 keeps a log file to one line per epoch', () => {
    vi.useFakeTimers({ now: 0 });
    const { stream, writes } = sink(false);
    const bar = progressBar(stream, { logEverySeconds: 0 });
    for (let i = 0; i < 10; i++) {
      vi.setSystemTime((i + 1) * 100_000);
      bar.onStepEnd?.(step(i));
    }
    expect(writes).toEqual([]);
  });
});
