import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { RBM } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../src/datasets/dataset.js';
import { trainDAE } from '../src/recipes/dae.js';
import { type RbmMethod, trainRBM } from '../src/recipes/rbm.js';

useCpuBackend();

/** Bars and stripes, 4×4 (MacKay): the 30 images with all rows or all columns equal, ×4. */
function barsAndStripes(): ImageDataset {
  const images: number[][] = [];
  for (let code = 0; code < 16; code++) {
    const on = [0, 1, 2, 3].map((i) => (code >> i) & 1);
    const rows = Array.from({ length: 16 }, (_, k) => on[Math.floor(k / 4)]! * 255);
    const cols = Array.from({ length: 16 }, (_, k) => on[k % 4]! * 255);
    images.push(rows);
    if (code !== 0 && code !== 15) images.push(cols);
  }
  const all = [...images, ...images, ...images, ...images];
  return {
    name: 'bars-and-stripes',
    imageShape: [4, 4, 1],
    pixels: Uint8Array.from(all.flat()),
    labels: new Int32Array(all.length),
    classNames: ['bs'],
  };
}

/** Smooth grey 6×6 images (one blob each) for the autoencoder. */
function blobs(n: number): ImageDataset {
  const pixels = new Uint8Array(n * 36);
  for (let i = 0; i < n; i++) {
    const cx = (i * 7) % 6;
    const cy = (i * 5) % 6;
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 6; x++)
        pixels[i * 36 + y * 6 + x] = Math.round(
          255 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4),
        );
  }
  return {
    name: 'blobs',
    imageShape: [6, 6, 1],
    pixels,
    labels: new Int32Array(n),
    classNames: ['b'],
  };
}

const values = (rbm: RBM) => rbm.trainableVariables.map((v) => Array.from(v.dataSync()));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebm-rbm-dae-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trainRBM', () => {
  const data = barsAndStripes();

  it.each<RbmMethod>(['cd', 'pcd', 'ratio-matching', 'mpf'])(
    '%s raises the pseudo-log-likelihood of the data and leaks no tensors',
    async (method) => {
      const before = tf.memory().numTensors;
      const { rbm, history, steps } = await trainRBM({
        dataset: data,
        method,
        numHidden: 8,
        epochs: 15,
        batchSize: 12,
        optimizer: { name: 'adam', learningRate: 0.05 },
        schedule: 'constant',
        seed: 1,
        monitor: data,
      });
      expect(steps).toBe(15 * 10);
      const pll = history.map((h) => h.metrics!['pseudoLogLikelihood']!);
      // An untrained RBM scores about 16·log ½ = −11.1 nats per image.
      expect(pll[0]!).toBeGreaterThan(-11.5);
      // Bars and stripes has uniform pixel marginals: independent pixels score 16·log ½ too, so
      // every nat above that comes from the hidden units.
      expect(pll.at(-1)!, `${method}: ${pll.join(', ')}`).toBeGreaterThan(-11.09 + 1);
      if (method === 'ratio-matching' || method === 'mpf')
        expect(history.at(-1)!.loss).toBeLessThan(history[0]!.loss);
      expect(history.at(-1)!.metrics!['reconstructionError']).toBeLessThan(0.25);
      rbm.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('resumes PCD from a checkpoint after a killed run to exactly the uninterrupted result', async () => {
    const config = {
      dataset: data,
      method: 'pcd' as const,
      numHidden: 6,
      k: 2,
      epochs: 3,
      batchSize: 20,
      optimizer: { name: 'adam' as const, learningRate: 0.02 },
      seed: 5,
    };
    const straight = await trainRBM({ ...config, runDir: join(dir, 'straight') });
    const runDir = join(dir, 'killed');
    await expect(
      trainRBM({
        ...config,
        runDir,
        callbacks: {
          onEpochEnd: (r) => {
            if (r.epoch === 0) throw new Error('killed');
          },
        },
      }),
    ).rejects.toThrow('killed');
    const resumed = await trainRBM({ ...config, runDir, resume: true });
    expect(resumed.steps).toBe(2 * 6);
    expect(values(resumed.rbm)).toEqual(values(straight.rbm));
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    expect(resumed.history.map((h) => h.metrics)).toEqual(straight.history.map((h) => h.metrics));
    // Other settings cannot resume this checkpoint.
    await expect(trainRBM({ ...config, k: 1, runDir, resume: true })).rejects.toThrow(
      /other settings/,
    );
    straight.rbm.dispose();
    resumed.rbm.dispose();
  });

  it('trains ratio matching and MPF the same with closed-form flips as with the generic losses', async () => {
    for (const method of ['ratio-matching', 'mpf'] as const) {
      const run = (closedFormFlips: boolean) =>
        trainRBM({
          dataset: data,
          method,
          numHidden: 5,
          epochs: 1,
          batchSize: 20,
          optimizer: { name: 'sgd', learningRate: 0.1 },
          monitor: false,
          closedFormFlips,
        });
      const [fast, generic] = [await run(true), await run(false)];
      const a = values(fast.rbm).flat();
      const b = values(generic.rbm).flat();
      for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, 4);
      expect(fast.history[0]!.loss).toBeCloseTo(generic.history[0]!.loss, 4);
      fast.rbm.dispose();
      generic.rbm.dispose();
    }
  });

  it('trains a given RBM in place and checks its inputs', async () => {
    const rbm = new RBM({ numVisible: 16, numHidden: 4, seed: 2 });
    const w0 = Array.from(rbm.weights.dataSync());
    const out = await trainRBM({ dataset: data, rbm, epochs: 1, batchSize: 30, monitor: false });
    expect(out.rbm).toBe(rbm);
    expect(Array.from(rbm.weights.dataSync())).not.toEqual(w0);
    expect(out.history[0]!.metrics).toEqual({});
    rbm.dispose();
    await expect(
      trainRBM({ dataset: data, rbm: new RBM({ numVisible: 9, numHidden: 2 }) }),
    ).rejects.toThrow(/9 visible units/);
    await expect(trainRBM({ dataset: data, method: 'gibbs' as RbmMethod })).rejects.toThrow(
      EbmError,
    );
  });
});

describe('trainDAE', () => {
  const data = blobs(64);

  it('lowers the denoising loss and the clean reconstruction energy', async () => {
    const before = tf.memory().numTensors;
    const { dae, history } = await trainDAE({
      dataset: data,
      hiddenUnits: [32],
      latentDim: 8,
      epochs: 20,
      batchSize: 16,
      optimizer: { name: 'adam', learningRate: 1e-2 },
      seed: 3,
    });
    const first = history[0]!.metrics!;
    const last = history.at(-1)!.metrics!;
    expect(last['denoisingLoss']!).toBeLessThan(0.7 * first['denoisingLoss']!);
    expect(last['reconstructionEnergy']!).toBeLessThan(first['reconstructionEnergy']!);
    expect(history.at(-1)!.loss).toBeLessThan(history[0]!.loss);
    dae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes from a checkpoint to exactly the uninterrupted result', async () => {
    const config = {
      dataset: data,
      hiddenUnits: [16],
      latentDim: 4,
      epochs: 2,
      batchSize: 16,
      seed: 4,
      noise: { type: 'mask' as const, rate: 0.25 },
    };
    const straight = await trainDAE({ ...config, runDir: join(dir, 'dae-straight') });
    const runDir = join(dir, 'dae-killed');
    await expect(
      trainDAE({
        ...config,
        runDir,
        callbacks: {
          onEpochEnd: () => {
            throw new Error('killed');
          },
        },
      }),
    ).rejects.toThrow('killed');
    const resumed = await trainDAE({ ...config, runDir, resume: true });
    const weights = (d: typeof straight.dae) =>
      d.trainableVariables.map((v) => Array.from(v.dataSync()));
    expect(weights(resumed.dae)).toEqual(weights(straight.dae));
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    straight.dae.dispose();
    resumed.dae.dispose();
  });
});
