import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convEncoder, MomentumEncoder, mlpEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  evaluateEmbedder,
  take,
  trainBarlowTwins,
  trainBYOL,
  trainSimSiam,
  trainVICReg,
} from '../src/index.js';
import { loadMnist } from '../src/node.js';
import { cosineMomentum } from '../src/recipes/two-views.js';
import { tinyImages } from './fixtures/resume-setup.js';

useCpuBackend();

// An MLP encoder: the pure-JS cpu backend trains it far faster than a ConvNet, which is what
// lets these tests take enough steps for the probe to see a difference.
const mlp = () =>
  mlpEncoder({ inputShape: [28, 28, 1], hiddenUnits: [256], embeddingDim: 64, seed: 1 });
const values = (models: tfl.LayersModel[]) =>
  models.flatMap((m) => m.getWeights().map((w) => Array.from(w.dataSync())));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// Projections scaled down with the encoder; every other setting is the recipe's default.
const RECIPES = [
  { name: 'trainBYOL', run: trainBYOL, extra: { predictorHiddenDim: 64 } },
  { name: 'trainSimSiam', run: trainSimSiam, extra: { predictorHiddenDim: 16 } },
  { name: 'trainVICReg', run: trainVICReg, extra: {} },
  { name: 'trainBarlowTwins', run: trainBarlowTwins, extra: {} },
] as const;

describe('the non-contrastive recipes', () => {
  it.each(RECIPES)(
    '$name lowers its loss on a small MNIST subset and leaks no tensors across steps',
    async ({ run, extra }) => {
      const dataset = take(await loadMnist({ split: 'test' }), 64, 3);
      const counts: number[] = [];
      const result = await (run as typeof trainVICReg)({
        dataset,
        encoder: mlp(),
        projectionDim: 32,
        hiddenDim: 64,
        ...extra,
        epochs: 6,
        batchSize: 16,
        optimizer: { name: 'adam', learningRate: 3e-3 },
        seed: 2,
        callbacks: { onStepEnd: () => void counts.push(tf.memory().numTensors) },
      });
      expect(result.steps).toBe(24);
      const losses = result.history.map((r) => r.loss);
      expect(losses.every(Number.isFinite)).toBe(true);
      // Fresh augmentations make epochs noisy: compare the first and the last two.
      expect(mean(losses.slice(-2))).toBeLessThan(
        mean(losses.slice(0, 2)) - 0.05 * Math.abs(losses[0]!),
      );
      expect(new Set(counts.slice(1)).size).toBe(1);
      result.encoder.model.dispose();
    },
  );

  // Self-supervised features beat the same encoder at its random initialisation on the linear
  // probe (random features of MNIST are a strong baseline: 77% here).
  it.each(RECIPES)(
    '$name beats the random-init encoder on the linear probe after 32 steps',
    async ({ run, extra }) => {
      const train = await loadMnist({ split: 'train' });
      const probeTrain = take(train, 1000, 2);
      const probeTest = take(await loadMnist({ split: 'test' }), 500, 3);
      const random = evaluateEmbedder(mlp().model, probeTrain, probeTest).linear;
      const result = await (run as typeof trainVICReg)({
        dataset: take(train, 512, 1),
        encoder: mlp(),
        projectionDim: 64,
        hiddenDim: 128,
        ...extra,
        epochs: 4,
        batchSize: 64,
        optimizer: { name: 'adam', learningRate: 3e-3 },
        seed: 2,
      });
      const trained = evaluateEmbedder(result.encoder.model, probeTrain, probeTest).linear;
      expect(trained).toBeGreaterThan(random + 0.02);
      result.encoder.model.dispose();
    },
  );
});

describe('trainBYOL resumes exactly', () => {
  // 16 tiny images, batch 4: 4 steps an epoch, 8 in all.
  const byol = (extra: Record<string, unknown> = {}) =>
    trainBYOL({
      dataset: tinyImages(),
      encoder: convEncoder({ inputShape: [8, 8, 1], channels: [4], seed: 1 }),
      projectionDim: 4,
      hiddenDim: 8,
      predictorHiddenDim: 8,
      momentum: 0.9,
      epochs: 2,
      batchSize: 4,
      seed: 3,
      optimizer: { name: 'adam', learningRate: 5e-3 },
      ...extra,
    });

  it('stopped mid-epoch, the resume restores the momentum target and equals the straight run', async () => {
    const straight = await byol();
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-byol-'));
    const stopped = await byol({ runDir, maxSteps: 3 });
    expect(stopped.stopReason).toBe('maxSteps');
    const resumed = await byol({ runDir, resume: true });
    expect(resumed.steps).toBe(5);
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    const online = (r: typeof straight) => [r.encoder.model, r.projector.model, r.predictor.model];
    expect(values(online(resumed))).toEqual(values(online(straight)));
    // The target is an EMA that lags the online weights, and the resumed one is the same EMA.
    expect(values([...straight.target.targets])).not.toEqual(
      values([straight.encoder.model, straight.projector.model]),
    );
    expect(values([...resumed.target.targets])).toEqual(values([...straight.target.targets]));
    for (const r of [straight, stopped, resumed]) {
      for (const m of online(r)) m.dispose();
      r.target.dispose();
    }
  });

  it("follows BYOL's cosine momentum schedule, the same as MomentumEncoder's", () => {
    const online = mlpEncoder({ inputShape: 2, hiddenUnits: [], embeddingDim: 2 });
    const scheduled = new MomentumEncoder(online, {
      momentum: 0.996,
      schedule: 'cosine',
      totalSteps: 40,
    });
    for (const k of [0, 1, 10, 20, 39, 40, 55])
      expect(cosineMomentum(0.996, k, 40)).toBeCloseTo(scheduled.momentumAt(k), 14);
    expect(cosineMomentum(0.996, 0, 40)).toBeCloseTo(0.996, 14);
    expect(cosineMomentum(0.996, 40, 40)).toBe(1);
    scheduled.dispose();
    online.model.dispose();
  });

  it('a resume with another momentum is refused, naming it', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-byol-'));
    const first = await byol({ runDir, epochs: 1 });
    await expect(byol({ runDir, epochs: 1, resume: true, momentum: 0.99 })).rejects.toThrow(
      'momentum: checkpoint 0.9, this run 0.99',
    );
    first.target.dispose();
  });
});
