// The onnxruntime engine inside the training loop: the same run as the tfjs engine (same
// batches, same augmentations, same optimizer), checkpoints both ways, and its errors.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isEbmError } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/loop/config.js';
import { trainSimCLR } from '../../src/recipes/simclr.js';
import { tinyImages } from '../fixtures/resume-setup.js';
import { expectClose } from './compare.js';

useCpuBackend();

type Run = { losses: number[]; weights: Float32Array[]; engine: string; note?: string };

async function simclr(extra: Partial<TrainConfig> = {}): Promise<Run> {
  const losses: number[] = [];
  const r = await trainSimCLR({
    dataset: tinyImages(32, 7),
    encoder: convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 1 }),
    projectionDim: 8,
    epochs: 2,
    batchSize: 8,
    seed: 4,
    optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
    onnxruntime: { threads: 1 },
    ...extra,
    callbacks: { onStepEnd: (e) => void losses.push(e.loss) },
  });
  const weights = [...r.encoder.model.getWeights(), ...r.head.model.getWeights()].map(
    (w) => w.dataSync() as Float32Array,
  );
  r.encoder.model.dispose();
  r.head.model.dispose();
  return { losses, weights, engine: r.engine, ...(r.engineNote ? { note: r.engineNote } : {}) };
}

const expectSameRun = (a: Run, b: Run, tol: number) => {
  expectClose(a.losses, b.losses, tol);
  a.weights.forEach((w, i) => expectClose(w, b.weights[i]!, tol));
};

describe("engine 'onnxruntime' (SimCLR)", () => {
  it.each([
    { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
    { name: 'adam', learningRate: 1e-3 },
    { name: 'adamw', learningRate: 1e-3, weightDecay: 0.05 },
    { name: 'lars', learningRate: 0.5, momentum: 0.9, weightDecay: 1e-4 },
  ] as const)(
    'runs the same 8 steps as the tfjs engine with $name: every loss and the final weights and statistics to 1e-4',
    async (optimizer) => {
      const tfjs = await simclr({ engine: 'tfjs', optimizer });
      const ort = await simclr({ engine: 'onnxruntime', optimizer });
      expect(tfjs.engine).toBe('tfjs');
      expect(ort.engine).toBe('onnxruntime');
      expect(ort.losses).toHaveLength(8);
      expectSameRun(ort, tfjs, 1e-4);
      // The weights moved: the comparison is not between two initial states.
      const initial = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 1 });
      const first = initial.model.getWeights()[0]!.dataSync();
      expect(Math.max(...first.map((v, i) => Math.abs(v - ort.weights[0]![i]!)))).toBeGreaterThan(
        1e-3,
      );
      initial.model.dispose();
    },
  );

  it('resumes exactly on the same engine, and a checkpoint moves between engines both ways', async () => {
    const straight = await simclr({ engine: 'onnxruntime' });
    const stopAndResume = async (first: 'tfjs' | 'onnxruntime', second: 'tfjs' | 'onnxruntime') => {
      const runDir = await mkdtemp(join(tmpdir(), 'ebm-ort-resume-'));
      const a = await simclr({ engine: first, runDir, maxSteps: 3 });
      const b = await simclr({ engine: second, runDir, resume: true });
      return { losses: [...a.losses, ...b.losses], weights: b.weights, engine: second };
    };
    const same = await stopAndResume('onnxruntime', 'onnxruntime');
    expect(same.losses).toEqual(straight.losses);
    same.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(straight.weights[i]!)));
    // Across engines the kernels differ, so the runs agree to rounding.
    expectSameRun(await stopAndResume('tfjs', 'onnxruntime'), straight, 1e-4);
    expectSameRun(await stopAndResume('onnxruntime', 'tfjs'), straight, 1e-4);
  });

  it("refuses what it cannot compile with UNSUPPORTED naming it; 'auto' falls back to tfjs with a note", async () => {
    const dataset = tinyImages(16, 3);
    const encoder = () => convEncoder({ inputShape: [8, 8, 1], channels: [4], seed: 1 });
    const base = { dataset, batchSize: 4, maxSteps: 1, projectionDim: 4 };
    const multiCrop = { local: 2, localSize: 4 };
    const refused = async (config: Partial<Parameters<typeof trainSimCLR>[0]>, words: RegExp) => {
      const error = await trainSimCLR({ ...base, encoder: encoder(), ...config }).catch((e) => e);
      expect(isEbmError(error) && error.code).toBe('UNSUPPORTED');
      expect(error.message).toMatch(words);
    };
    await refused({ engine: 'onnxruntime', multiCrop }, /multiCrop/);
    const ready = tf.train.sgd(0.1);
    await refused({ engine: 'onnxruntime', optimizer: ready }, /OptimizerConfig/);
    ready.dispose();
    const bad = await trainSimCLR({ ...base, encoder: encoder(), engine: 'gpu' as never }).catch(
      (e) => e,
    );
    expect(isEbmError(bad) && bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/tfjs, onnxruntime, auto.*"gpu"/);

    const starts: unknown[] = [];
    const auto = await trainSimCLR({
      ...base,
      encoder: encoder(),
      engine: 'auto',
      multiCrop,
      callbacks: { onStart: (e) => void starts.push(e) },
    });
    expect(auto.engine).toBe('tfjs');
    expect(auto.engineNote).toMatch(/auto chose tfjs: .*multiCrop/);
    expect(starts).toEqual([{ engine: 'tfjs', engineNote: auto.engineNote }]);
    const compiled = await trainSimCLR({
      ...base,
      encoder: encoder(),
      engine: 'auto',
      optimizer: { name: 'sgd', learningRate: 0.01 },
    });
    expect(compiled.engine).toBe('onnxruntime');
    expect(compiled.engineNote).toBeUndefined();
  });

  it('bad inputs are the same EbmErrors as on the tfjs engine', async () => {
    const dataset = tinyImages(16, 3);
    for (const engine of ['tfjs', 'onnxruntime'] as const) {
      const error = await trainSimCLR({
        dataset,
        encoder: convEncoder({ inputShape: [8, 8, 1], channels: [4], seed: 1 }),
        batchSize: 32,
        engine,
      }).catch((e) => e);
      expect(isEbmError(error) && error.code).toBe('BATCH_TOO_SMALL');
    }
  });
});
