// PIRL on the onnxruntime engine: the same run as the tfjs engine (same views, jigsaw cuts and
// bank negatives), the trunk shared by the image and the nine patches in one graph, the memory
// bank fed from and moved by the graph; checkpoints resume exactly and move between engines.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/datasets/dataset.js';
import type { TrainConfig } from '../../src/loop/config.js';
import { trainPIRL } from '../../src/recipes/pirl.js';
import { expectClose } from './compare.js';

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

const expectSameRun = (a: Run, b: Run, tol: number) => {
  expectClose(a.losses, b.losses, tol, 'losses');
  expect(a.state.length).toBe(b.state.length);
  a.state.forEach((w, i) => expectClose(w, b.state[i]!, tol, `state tensor ${i}`));
};

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
    const straight = await pirl({ engine: 'onnxruntime' });
    const stopAndResume = async (first: 'tfjs' | 'onnxruntime', second: 'tfjs' | 'onnxruntime') => {
      const runDir = await mkdtemp(join(tmpdir(), 'ebm-ort-pirl-'));
      const a = await pirl({ engine: first, runDir, maxSteps: 2 });
      const b = await pirl({ engine: second, runDir, resume: true });
      return { ...b, losses: [...a.losses, ...b.losses] };
    };
    const same = await stopAndResume('onnxruntime', 'onnxruntime');
    expect(same.losses).toEqual(straight.losses);
    same.state.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(straight.state[i]!)));
    expectSameRun(await stopAndResume('tfjs', 'onnxruntime'), straight, 1e-4);
    expectSameRun(await stopAndResume('onnxruntime', 'tfjs'), straight, 1e-4);
  });
});
