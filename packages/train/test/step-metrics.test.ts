import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it } from 'vitest';
import { cosineSchedule } from '../src/index.js';
import { readMetrics, readStepMetrics } from '../src/node.js';
import { runRecipe } from './fixtures/resume-setup.js';

useCpuBackend();

// runRecipe('simclr'): 2 epochs of 4 steps, AdamW 5e-3, warm-up 0.5 epoch (2 steps), cosine.
const schedule = cosineSchedule({ baseLr: 5e-3, totalSteps: 8, warmupSteps: 2 });
/** A step record without its throughput (wall-clock, so not reproducible). */
const numbers = ({ imagesPerSecond: _, ...rest }: { imagesPerSecond: number }) => rest;

describe('step records in metrics.jsonl (logEverySteps)', () => {
  it('writes one record every N steps with the step, its loss, lr, img/s and gradient norm', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-steps-'));
    try {
      const run = await runRecipe('simclr', { runDir, logEverySteps: 3 });
      const log = join(runDir, 'metrics.jsonl');
      const steps = await readStepMetrics(log);
      expect(steps.map((r) => r.step)).toEqual([3, 6]);
      expect(steps.map((r) => r.epoch)).toEqual([0, 1]);
      for (const r of steps) {
        expect(r.type).toBe('step');
        expect(r.learningRate).toBe(schedule(r.step - 1));
        expect(Number.isFinite(r.loss)).toBe(true);
        expect(r.gradNorm).toBeGreaterThan(0);
        expect(r.imagesPerSecond).toBeGreaterThan(0);
      }
      // The epoch records stay as they were, and readMetrics still returns only them.
      expect((await readMetrics(log)).map((r) => r.loss)).toEqual(run.losses);
      // Off: no step records, and the same numbers (logging changes nothing).
      const offDir = join(runDir, 'off');
      const off = await runRecipe('simclr', { runDir: offDir, logEverySteps: 0 });
      expect(await readStepMetrics(join(offDir, 'metrics.jsonl'))).toEqual([]);
      expect(off.state).toEqual(run.state);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  });

  it('a resume after a crash keeps the step numbering: no duplicate, none missing', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-steps-resume-'));
    try {
      const straightDir = join(runDir, 'straight');
      await runRecipe('simclr', { runDir: straightDir, logEverySteps: 2 });
      const straight = await readStepMetrics(join(straightDir, 'metrics.jsonl'));
      expect(straight.map((r) => r.step)).toEqual([2, 4, 6, 8]);

      // Checkpoint after step 3; the run logs step 4 and then dies at step 5.
      const crashed = join(runDir, 'crashed');
      const die = {
        onStepEnd(e: { globalStep: number }) {
          if (e.globalStep === 5) throw new Error('killed');
        },
      };
      await expect(
        runRecipe('simclr', {
          runDir: crashed,
          logEverySteps: 2,
          checkpointEverySteps: 3,
          callbacks: die,
        }),
      ).rejects.toThrow('killed');
      const log = join(crashed, 'metrics.jsonl');
      expect((await readStepMetrics(log)).map((r) => r.step)).toEqual([2, 4]);

      await runRecipe('simclr', { runDir: crashed, logEverySteps: 2, resume: true });
      const resumed = await readStepMetrics(log);
      expect(resumed.map(numbers)).toEqual(straight.map(numbers));
      expect((await readMetrics(log)).map((r) => r.epoch)).toEqual([0, 1]);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  });
});
