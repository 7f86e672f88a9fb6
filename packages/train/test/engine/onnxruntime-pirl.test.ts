// PIRL on the onnxruntime engine: the same run as the tfjs engine (same views, jigsaw cuts and
// bank negatives), the trunk shared by the image and the nine patches in one graph, the memory
// bank fed from and moved by the graph; checkpoints resume exactly and move between engines.
import { Rng } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/datasets/dataset.js';
import type { TrainConfig } from '../../src/loop/config.js';
import { trainPIRL } from '../../src/recipes/pirl.js';
import { expectResumes, expectSameRun } from './compare.js';

useCpuBackend();

/** 24 random 12×12 images: 3×3 jigsaw cells of 4 pixels, 3-pixel patches. */
function images(): ImageDataset {
  const rng = new Rng(3);
  const n = 24;
  return {
    name: 'tiny-pirl',
    imageShape: [12, 12, 1],
    pixels: Uint8Array.from({ length: n * 144 }, () => Math.floor(rng.next() * 256)),
    labels: Int32Array.from({ length: n }, (_, i) => i % 2),
    classNames: ['a', 'b'],
  };
}

interface Run {
  losses: number[];
  /** The joint model's weights (trunk, heads, BatchNorm statistics), then the bank. */
  state: Float32Array[];
  engine: string;
}

async function pirl(extra: Partial<TrainConfig> = {}): Promise<Run> {
  const losses: number[] = [];
  const r = await trainPIRL({
    dataset: images(),
    encoder: convEncoder({ inputShape: [null, null, 1], channels: [4, 8], seed: 1 }),
    projectionDim: 8,
    negatives: 6,
    epochs: 2,
    batchSize: 8,
    seed: 4,
    optimizer: { name: 'adam', learningRate: 1e-2 },
    onnxruntime: { threads: 1 },
    ...extra,
    callbacks: { onStepEnd: (e) => void losses.push(e.loss) },
  });
  const state = [
    ...r.heads.joint.getWeights().map((w) => w.dataSync() as Float32Array),
    r.bank.bank().dataSync() as Float32Array,
  ];
  r.bank.dispose();
  r.heads.joint.dispose();
  r.encoder.model.dispose();
  return { losses, state, engine: r.engine };
}

describe("engine 'onnxruntime' (PIRL)", () => {
  it('runs the same 6 steps as the tfjs engine: losses, weights, BatchNorm statistics and the memory bank to 1e-4', async () => {
    const start = tf.memory().numTensors;
    const tfjs = await pirl({ engine: 'tfjs' });
    const afterTfjs = tf.memory().numTensors;
    const ort = await pirl({ engine: 'onnxruntime' });
    // The compiled step keeps no tensor of its own: a run leaves what a tfjs run leaves.
    expect(tf.memory().numTensors - afterTfjs).toBe(afterTfjs - start);
    expect([tfjs.engine, ort.engine]).toEqual(['tfjs', 'onnxruntime']);
    expect(ort.losses).toHaveLength(6);
    expectSameRun(ort, tfjs, 1e-4);
  });

  it('resumes exactly on the same engine, and a checkpoint moves between engines both ways', async () => {
    await expectResumes(pirl, 2, 1e-4);
  });
});
