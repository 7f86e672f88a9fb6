// VICReg, Barlow Twins, SimSiam and BYOL on the onnxruntime engine: the same runs as the tfjs
// engine (same batches and augmentations, each view through the networks on its own), BYOL's
// target moved by its cosine schedule in the graph; a stopped BYOL run resumes exactly and its
// checkpoint moves between engines.
import { convEncoder, type Encoder, type MomentumEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/loop/config.js';
import { trainBarlowTwins } from '../../src/recipes/barlow-twins.js';
import { trainBYOL } from '../../src/recipes/byol.js';
import { trainSimSiam } from '../../src/recipes/simsiam.js';
import { trainVICReg } from '../../src/recipes/vicreg.js';
import { tinyImages } from '../fixtures/resume-setup.js';
import { expectResumes, expectSameRun } from './compare.js';

useCpuBackend();

interface Run {
  losses: number[];
  /** Every weight and statistic of the run's models, the target's last. */
  state: Float32Array[];
  engine: string;
  targetSteps?: number;
}

const base = (extra: Partial<TrainConfig>) => ({
  dataset: tinyImages(32, 7),
  encoder: convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 1 }) as Encoder,
  epochs: 2,
  batchSize: 8,
  seed: 4,
  // SGD with momentum, not Adam: these losses leave some weights with an exactly zero gradient
  // (the projector's last bias: VICReg and Barlow Twins centre each dimension, SimSiam's and
  // BYOL's predictor BatchNorm removes a shift of z), and Adam's g/√v turns the rounding noise
  // in such a gradient into full-size steps that differ between any two runtimes.
  optimizer: { name: 'sgd' as const, learningRate: 0.01, momentum: 0.9 },
  onnxruntime: { threads: 1 },
  ...extra,
});

/** The run's losses and state; disposes its models. */
function finish(
  losses: number[],
  engine: string,
  models: LayersModel[],
  target?: MomentumEncoder,
): Run {
  const all = [...models, ...(target?.targets ?? [])];
  const state = all.flatMap((m) => m.getWeights().map((w) => w.dataSync() as Float32Array));
  const run: Run = { losses, state, engine };
  if (target) run.targetSteps = target.step;
  target?.dispose();
  for (const m of models) m.dispose();
  return run;
}

type Train = (extra: Partial<TrainConfig>) => Promise<Run>;

const RECIPES: Record<string, Train> = {
  async vicreg(extra) {
    const losses: number[] = [];
    const r = await trainVICReg({
      ...base(extra),
      projectionDim: 8,
      callbacks: { onStepEnd: (e) => void losses.push(e.loss) },
    });
    return finish(losses, r.engine, [r.encoder.model, r.projector.model]);
  },
  async barlowTwins(extra) {
    const losses: number[] = [];
    const r = await trainBarlowTwins({
      ...base(extra),
      projectionDim: 8,
      lambda: 0.05,
      callbacks: { onStepEnd: (e) => void losses.push(e.loss) },
    });
    return finish(losses, r.engine, [r.encoder.model, r.projector.model]);
  },
  // Hidden widths of 32 and 16, not 8 and 4: with few ReLU units, a row whose units are all off
  // (odds 1/2^width) projects or predicts exactly the bias, about 0, and the cosine of a vector
  // of norm ≈ 0 (and its 1/|p| gradient) turns rounding into large differences.
  async simsiam(extra) {
    const losses: number[] = [];
    const r = await trainSimSiam({
      ...base(extra),
      projectionDim: 8,
      hiddenDim: 32,
      predictorHiddenDim: 16,
      callbacks: { onStepEnd: (e) => void losses.push(e.loss) },
    });
    return finish(losses, r.engine, [r.encoder.model, r.projector.model, r.predictor.model]);
  },
  async byol(extra) {
    const losses: number[] = [];
    const r = await trainBYOL({
      ...base(extra),
      projectionDim: 8,
      hiddenDim: 32,
      predictorHiddenDim: 16,
      momentum: 0.9,
      callbacks: { onStepEnd: (e) => void losses.push(e.loss) },
    });
    const models = [r.encoder.model, r.projector.model, r.predictor.model];
    return finish(losses, r.engine, models, r.target);
  },
};

describe("engine 'onnxruntime' (VICReg, Barlow Twins, SimSiam, BYOL)", () => {
  for (const [name, train] of Object.entries(RECIPES)) {
    it(`${name}: the same 8 steps as the tfjs engine, losses and every weight and statistic to 1e-4`, async () => {
      const tfjs = await train({ engine: 'tfjs' });
      const tensors = tf.memory().numTensors;
      const ort = await train({ engine: 'onnxruntime' });
      // Everything the run made is disposed with its models (and target).
      expect(tf.memory().numTensors).toBe(tensors);
      expect([tfjs.engine, ort.engine]).toEqual(['tfjs', 'onnxruntime']);
      expect(ort.losses).toHaveLength(8);
      // The run learned: the last epoch's mean loss is below the first's.
      const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
      expect(mean(ort.losses.slice(4))).toBeLessThan(mean(ort.losses.slice(0, 4)));
      expectSameRun(ort, tfjs, 1e-4);
      expect(ort.targetSteps).toBe(tfjs.targetSteps);
    });
  }

  it('byol: resumes exactly on the same engine, and a checkpoint moves between engines both ways', async () => {
    await expectResumes(RECIPES['byol']!, 3, 1e-4);
  });

  it('multiCrop is UNSUPPORTED under onnxruntime and falls back to tfjs under auto', async () => {
    const multiCrop = { global: 2, local: 2, localSize: 4 };
    await expect(
      trainVICReg({ ...base({ engine: 'onnxruntime' }), projectionDim: 8, multiCrop }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('multiCrop') });
    const r = await trainVICReg({
      ...base({ engine: 'auto', maxSteps: 1 }),
      projectionDim: 8,
      multiCrop,
    });
    expect(r.engine).toBe('tfjs');
    r.encoder.model.dispose();
    r.projector.model.dispose();
  });
});
