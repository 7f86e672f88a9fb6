import { EbmError } from '@ebmjs/core';
import { convEncoder, projectionHead } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { take, trainMoCo } from '../src/index.js';
import { loadMnist } from '../src/node.js';

useCpuBackend();

const tiny = () => {
  const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [4], seed: 2 });
  const head = projectionHead({ inputDim: encoder.embeddingDim, outputDim: 8, seed: 3 });
  return { encoder, head };
};

/** Non-trainable weights (BatchNorm moving mean/variance) by original name. */
const statistics = (models: tfl.LayersModel[], names?: Set<string>) =>
  new Map(
    models
      .flatMap((m) => m.weights)
      .filter((w) => (names ? names.has(w.originalName) : !w.trainable))
      .map((w) => [w.originalName, Array.from(w.read().dataSync())]),
  );

describe('trainMoCo with Shuffle BN', () => {
  it("writes the key encoder's moving statistics once a step: μ_k ← m·μ_k + (1 − m)·μ_q", async () => {
    // One step (8 images, batch 8). The key encoder starts as a copy of the query encoder; after
    // the step its statistics must be the EMA of the query's statistics after the step, and
    // nothing of the keys' own batch (the old path also wrote those from its training forward).
    const dataset = take(await loadMnist({ split: 'test' }), 8, 3);
    const { encoder, head } = tiny();
    const before = statistics([encoder.model, head.model]);
    expect(before.size).toBeGreaterThan(0);
    const m = 0.5;
    const result = await trainMoCo({
      dataset,
      encoder,
      head,
      momentum: m,
      queueSize: 8,
      batchSize: 8,
      epochs: 1,
      seed: 1,
    });
    expect(result.keyEncoder.step).toBe(1);
    const names = new Set(before.keys());
    const query = statistics([encoder.model, head.model], names);
    const key = statistics([...result.keyEncoder.targets], names);
    expect(key.size).toBe(before.size);
    for (const [name, start] of before) {
      const q = query.get(name)!;
      expect(q, `${name} moved on the query side`).not.toEqual(start);
      const k = key.get(name)!;
      k.forEach((v, j) =>
        expect(v, `${name}[${j}]`).toBeCloseTo(m * start[j]! + (1 - m) * q[j]!, 5),
      );
    }
  });

  it('shuffles with the run rng: reproducible, and different from whole-batch BN', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 8, 4);
    const run = async (shuffleBnGroups: number) =>
      (
        await trainMoCo({
          dataset,
          ...tiny(),
          queueSize: 8,
          batchSize: 8,
          epochs: 1,
          seed: 2,
          shuffleBnGroups,
        })
      ).history[0]!.loss;
    const grouped = await run(2);
    expect(await run(2)).toBe(grouped);
    expect(Math.abs((await run(1)) - grouped)).toBeGreaterThan(1e-4);
  });

  it('keeps tf.memory().numTensors flat across steps', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 16, 5);
    const counts: number[] = [];
    await trainMoCo({
      dataset,
      ...tiny(),
      queueSize: 8,
      batchSize: 4,
      epochs: 1,
      seed: 3,
      shuffleBnGroups: 2,
      callbacks: { onStepEnd: () => void counts.push(tf.memory().numTensors) },
    });
    expect(counts).toHaveLength(4);
    // The first step creates the optimizer's slots; from then on nothing accumulates.
    expect(counts.slice(1)).toEqual([counts[1], counts[1], counts[1]]);
  });

  it('rejects groups the batch cannot fill (two rows each) and non-integers', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 8, 6);
    const attempt = (shuffleBnGroups: number) =>
      trainMoCo({ dataset, ...tiny(), batchSize: 8, shuffleBnGroups });
    const error = await attempt(5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('INVALID_ARGUMENT');
    expect((error as EbmError).message).toMatch(
      /shuffleBnGroups 5 needs batchSize of at least 10.*received 8/,
    );
    await expect(attempt(1.5)).rejects.toThrow(/shuffleBnGroups/);
    await expect(attempt(0)).rejects.toThrow(/shuffleBnGroups/);
  });
});
