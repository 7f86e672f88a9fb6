import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TrainConfig } from '../../src/loop/config.js';

/** max |a − b| ≤ tol · max(|b|, 1e-3): two engines' losses or state tensors agree to rounding. */
export function expectClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tol: number,
  what?: string,
): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  let scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  expect(worst / scale, what).toBeLessThan(tol);
}

/** What a run leaves to compare: every step's loss and every state tensor. */
export interface RunState {
  losses: number[];
  state: Float32Array[];
}

export function expectSameRun(a: RunState, b: RunState, tol: number): void {
  expectClose(a.losses, b.losses, tol, 'losses');
  expect(a.state.length).toBe(b.state.length);
  a.state.forEach((w, i) => expectClose(w, b.state[i]!, tol, `state tensor ${i}`));
}

/**
 * A run stopped after `stopAt` steps and resumed equals the straight run: bit for bit on the
 * onnxruntime engine, and to `tol` when the checkpoint moves between engines (both ways).
 */
export async function expectResumes(
  train: (extra: Partial<TrainConfig>) => Promise<RunState>,
  stopAt: number,
  tol: number,
): Promise<void> {
  const straight = await train({ engine: 'onnxruntime' });
  const stopAndResume = async (first: 'tfjs' | 'onnxruntime', second: 'tfjs' | 'onnxruntime') => {
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-ort-resume-'));
    const a = await train({ engine: first, runDir, maxSteps: stopAt });
    const b = await train({ engine: second, runDir, resume: true });
    return { ...b, losses: [...a.losses, ...b.losses] };
  };
  const same = await stopAndResume('onnxruntime', 'onnxruntime');
  expect(same.losses).toEqual(straight.losses);
  same.state.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(straight.state[i]!)));
  expectSameRun(await stopAndResume('tfjs', 'onnxruntime'), straight, tol);
  expectSameRun(await stopAndResume('onnxruntime', 'tfjs'), straight, tol);
}
