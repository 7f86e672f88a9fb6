import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type TrainDAEConfig, trainDAE } from '../src/index.js';
import { readMetrics } from '../src/node.js';
import { runRecipe, tinyImages } from './fixtures/resume-setup.js';

useCpuBackend();
afterEach(() => vi.restoreAllMocks());

const tempDir = (what: string) => mkdtemp(join(tmpdir(), `ebm-${what}-`));

/** A DAE on 32 tiny images: 8 steps of batch 4 per epoch. */
async function dae(extra: Partial<TrainDAEConfig> = {}) {
  const r = await trainDAE({
    dataset: tinyImages(32, 5),
    hiddenUnits: [8],
    latentDim: 3,
    batchSize: 4,
    epochs: 3,
    seed: 2,
    monitor: false,
    optimizer: { name: 'adam', learningRate: 0.01 },
    ...extra,
  });
  const weights = r.dae.trainableVariables.map((v) => Array.from(v.dataSync()));
  r.dae.dispose();
  return { ...r, losses: r.history.map((h) => h.loss), weights };
}

describe('resume after a stop mid-epoch', () => {
  it('maxSteps stops without changing the plan; the resume completes it exactly', async () => {
    const runDir = await tempDir('maxsteps');
    const stopped = await runRecipe('simclr', { runDir, maxSteps: 3 });
    expect(stopped.stopReason).toBe('maxSteps');
    expect(stopped.steps).toBe(3);
    expect(stopped.partial).toEqual([true]); // epoch 0 stopped after 3 of its 4 steps
    const resumed = await runRecipe('simclr', { runDir, resume: true });
    const straight = await runRecipe('simclr');
    expect(resumed.steps).toBe(5);
    expect(resumed.stopReason).toBe('completed');
    expect(resumed.losses).toEqual(straight.losses);
    expect(resumed.state).toEqual(straight.state);
    // The partial record was replaced: one record per epoch, as in the uninterrupted run.
    expect((await readMetrics(join(runDir, 'metrics.jsonl'))).map((r) => r.loss)).toEqual(
      straight.losses,
    );
  });

  it('the time budget fits the plan; a stop at the budget resumes to that fitted plan', async () => {
    // A simulated clock: each step's callback advances it (the first 4 steps at 0.5 s).
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock * 1000);
    const timed = (seconds: (step: number) => number) => ({
      onStepEnd: (e: { globalStep: number }) => {
        clock += seconds(e.globalStep);
      },
    });
    // Uninterrupted: steady 0.5 s steps; after 4 steps the 24 planned are fitted to 21.
    const fitted = await dae({ timeBudgetSeconds: 10.2, callbacks: timed(() => 0.5) });
    expect(fitted.stopReason).toBe('timeBudget');
    expect(fitted.steps).toBe(21);
    // Interrupted: the same first steps (the same fit), then 3 s steps: stopped at the budget
    // after 7 steps, mid-epoch 0.
    clock = 0;
    const runDir = await tempDir('budget');
    const stopped = await dae({
      runDir,
      timeBudgetSeconds: 10.2,
      callbacks: timed((s) => (s <= 4 ? 0.5 : 3)),
    });
    expect(stopped.stopReason).toBe('timeBudget');
    expect(stopped.steps).toBe(7);
    const resumed = await dae({ runDir, resume: true });
    expect(resumed.steps).toBe(21 - 7);
    expect(resumed.losses).toEqual(fitted.losses);
    expect(resumed.weights).toEqual(fitted.weights);
    expect(resumed.history.map((h) => h.learningRate)).toEqual(
      fitted.history.map((h) => h.learningRate),
    );
  });

  it('an aborted signal checkpoints and stops with "aborted"; the resume is exact', async () => {
    const runDir = await tempDir('signal');
    const controller = new AbortController();
    const stopped = await dae({
      runDir,
      signal: controller.signal,
      callbacks: { onStepEnd: (e) => void (e.globalStep === 11 && controller.abort()) },
    });
    expect(stopped.stopReason).toBe('aborted');
    expect(stopped.steps).toBe(11);
    const resumed = await dae({ runDir, resume: true });
    const straight = await dae();
    expect(resumed.steps).toBe(13);
    expect(resumed.losses).toEqual(straight.losses);
    expect(resumed.weights).toEqual(straight.weights);
  });
});

describe('resume fingerprint', () => {
  it('a changed optimizer is one EbmError naming the setting and both values', async () => {
    const runDir = await tempDir('optimizer');
    await dae({ runDir, epochs: 1 });
    const error = await dae({
      runDir,
      epochs: 1,
      resume: true,
      optimizer: { name: 'sgd', learningRate: 0.01 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('INVALID_ARGUMENT');
    const message = (error as EbmError).message;
    expect(message).toContain('optimizer.name: checkpoint "adam", this run "sgd"');
    expect(message).toContain('optimizer.momentum: checkpoint (not recorded), this run 0.9');
    expect(message).not.toContain('learningRate');
    // Other settings that change the math are named too.
    await expect(dae({ runDir, epochs: 1, resume: true, warmupEpochs: 0.5 })).rejects.toThrow(
      'warmupEpochs: checkpoint 0, this run 0.5',
    );
    await expect(dae({ runDir, epochs: 1, resume: true, hiddenUnits: [9] })).rejects.toThrow(
      /model: checkpoint "\d+ layers, \d+ parameters, crc32 [0-9a-f]+", this run/,
    );
  });

  it('more epochs on a finished run need extend: true', async () => {
    const runDir = await tempDir('extend');
    await dae({ runDir, epochs: 1 });
    await expect(dae({ runDir, epochs: 2, resume: true })).rejects.toThrow(
      /epochs: checkpoint 1, this run 2.*extend: true/,
    );
    const extended = await dae({ runDir, epochs: 2, resume: true, extend: true });
    expect(extended.steps).toBe(8);
    expect(extended.history.map((h) => h.epoch)).toEqual([0, 1]);
    await expect(dae({ runDir, epochs: 1, resume: true, extend: true })).rejects.toThrow(
      /at least the 2 epochs/,
    );
  });
});

describe('crash safety of metrics.jsonl and checkpoints', () => {
  it('readMetrics skips a torn last line and names a corrupt middle line', async () => {
    const dir = await tempDir('metrics');
    const path = join(dir, 'metrics.jsonl');
    const line = (epoch: number) => JSON.stringify({ epoch, loss: 1, learningRate: 0.1 });
    await writeFile(path, `${line(0)}\n${line(1)}\n{"epoch":2,"lo`);
    expect((await readMetrics(path)).map((r) => r.epoch)).toEqual([0, 1]);
    await writeFile(path, `${line(0)}\n{"epoch":1,"lo\n${line(2)}\n`);
    const error = await readMetrics(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('CORRUPT_FILE');
    expect((error as EbmError).message).toContain(`${path}: line 2`);
  });

  it('recovers from a crash: leftover tmp dirs, half-written files, a torn and stale log', async () => {
    const straight = await dae();
    const runDir = await tempDir('crash');
    // The run dies in epoch 1 (after the epoch-0 checkpoint and log line).
    await expect(
      dae({
        runDir,
        callbacks: {
          onStepEnd: (e) => {
            if (e.globalStep === 11) throw new Error('killed');
          },
        },
      }),
    ).rejects.toThrow('killed');
    // What a kill -9 in the middle of a save and an append leaves behind: a temporary
    // checkpoint of a dead process with half-written files, and a torn log line plus a line
    // for an epoch the checkpoint does not have.
    const dead = join(runDir, 'checkpoint.tmp-999999');
    await mkdir(join(dead, 'training'), { recursive: true });
    await writeFile(join(dead, 'training', 'weights.bin'), new Uint8Array(7));
    const log = join(runDir, 'metrics.jsonl');
    const kept = await readFile(log, 'utf8');
    await writeFile(log, `${kept}${JSON.stringify({ epoch: 1, loss: 9 })}\n{"epoch":2,"lo`);
    const resumed = await dae({ runDir, resume: true });
    expect(resumed.losses).toEqual(straight.losses);
    expect(resumed.weights).toEqual(straight.weights);
    expect((await readdir(runDir)).sort()).toEqual(['checkpoint', 'metrics.jsonl']);
    expect((await readMetrics(log)).map((r) => r.loss)).toEqual(straight.losses);
  });

  it('restores a log record the checkpoint has but the log lost, and falls back to checkpoint.old', async () => {
    const straight = await dae({ epochs: 2 });
    const runDir = await tempDir('lost');
    await expect(
      dae({
        runDir,
        epochs: 2,
        callbacks: {
          onStepEnd: (e) => {
            if (e.globalStep === 12) throw new Error('killed');
          },
        },
      }),
    ).rejects.toThrow('killed');
    // A crash after the checkpoint, before its log line; and one between the two renames
    // of a later save (the checkpoint moved to checkpoint.old, the new one not yet in place).
    await writeFile(join(runDir, 'metrics.jsonl'), '');
    await rename(join(runDir, 'checkpoint'), join(runDir, 'checkpoint.old'));
    const resumed = await dae({ runDir, epochs: 2, resume: true });
    expect(resumed.steps).toBe(8);
    expect(resumed.losses).toEqual(straight.losses);
    expect(resumed.weights).toEqual(straight.weights);
    expect((await readMetrics(join(runDir, 'metrics.jsonl'))).map((r) => r.loss)).toEqual(
      straight.losses,
    );
    await rm(runDir, { recursive: true, force: true });
  });
});
