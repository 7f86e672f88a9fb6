// MoCo on the onnxruntime engine: the same run as the tfjs engine (same batches, augmentations,
// Shuffle BN permutations), with the key encoder's EMA in the graph and the queue fed and filled
// from it; checkpoints resume exactly and move between engines.
import { convEncoder, NegativeQueue } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/loop/config.js';
import { trainMoCo } from '../../src/recipes/moco.js';
import { tinyImages } from '../fixtures/resume-setup.js';
import { expectResumes, expectSameRun } from './compare.js';

useCpuBackend();

interface Run {
  losses: number[];
  /** Encoder, head, key encoder and key head weights, then the queue. */
  state: Float32Array[];
  engine: string;
  keySteps: number;
}

async function moco(extra: Partial<TrainConfig> = {}): Promise<Run> {
  const losses: number[] = [];
  const r = await trainMoCo({
    dataset: tinyImages(32, 7),
    encoder: convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 1 }),
    projectionDim: 8,
    queueSize: 20,
    momentum: 0.9,
    epochs: 2,
    batchSize: 8,
    seed: 4,
    optimizer: { name: 'adam', learningRate: 1e-2 },
    onnxruntime: { threads: 1 },
    ...extra,
    callbacks: { onStepEnd: (e) => void losses.push(e.loss) },
  });
  const models = [r.encoder.model, r.head.model, ...r.keyEncoder.targets];
  const state = [
    ...models.flatMap((m) => m.getWeights().map((w) => w.dataSync() as Float32Array)),
    r.queue.keys().dataSync() as Float32Array,
  ];
  const run = { losses, state, engine: r.engine, keySteps: r.keyEncoder.step };
  r.keyEncoder.dispose();
  r.queue.dispose();
  r.encoder.model.dispose();
  r.head.model.dispose();
  return run;
}

describe("engine 'onnxruntime' (MoCo)", () => {
  it('runs the same 8 steps as the tfjs engine: losses, query and key weights and statistics, and the queue to 1e-4', async () => {
    const tfjs = await moco({ engine: 'tfjs' });
    const tensors = tf.memory().numTensors;
    const ort = await moco({ engine: 'onnxruntime' });
    // Everything the run made is disposed with its models, key encoder and queue.
    expect(tf.memory().numTensors).toBe(tensors);
    expect([tfjs.engine, ort.engine]).toEqual(['tfjs', 'onnxruntime']);
    expect(ort.losses).toHaveLength(8);
    expect(ort.keySteps).toBe(8);
    expectSameRun(ort, tfjs, 1e-4);
    expect(tfjs.keySteps).toBe(8);
    // The key encoder moved away from its initial copy (the encoder's initial weights), and the
    // queue's initial random keys were replaced.
    const initial = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 1 });
    const kernel = initial.model.getWeights()[0]!.dataSync();
    const keyKernel = ort.state[(ort.state.length - 1) / 2]!; // the key encoder's first
    expect(keyKernel.length).toBe(kernel.length);
    expect(Math.max(...keyKernel.map((v, i) => Math.abs(v - kernel[i]!)))).toBeGreaterThan(1e-4);
    initial.model.dispose();
    const queue = new NegativeQueue({ size: 20, dim: 8, seed: 6 });
    const start = queue.keys().dataSync();
    expect(Math.max(...ort.state.at(-1)!.map((v, i) => Math.abs(v - start[i]!)))).toBeGreaterThan(
      0.1,
    );
    queue.dispose();
  });

  it('resumes exactly on the same engine, and a checkpoint moves between engines both ways', async () => {
    await expectResumes(moco, 3, 1e-4);
  });
});
