import { expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EbmError, ReplayBuffer } from '../src/index.js';

useCpuBackend();

describe('ReplayBuffer', () => {
  it('starts full of init samples in range and draws distinct chains', () => {
    const buffer = new ReplayBuffer({
      capacity: 10,
      sampleShape: [2, 3],
      range: [0, 1],
      seed: 1,
      reinitProb: 0,
    });
    const { samples, indices, reinitialized } = buffer.sample(10);
    expect(samples.shape).toEqual([10, 2, 3]);
    expect(new Set(indices).size).toBe(10);
    expect(Array.from(reinitialized)).toEqual(new Array(10).fill(0));
    const values = samples.dataSync();
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    // Row r holds exactly the stored chain indices[r].
    indices.forEach((slot, r) =>
      expect(Array.from(values.slice(r * 6, r * 6 + 6))).toEqual(Array.from(buffer.get(slot))),
    );
    samples.dispose();
  });

  it('writes moved chains back to the slots they came from', () => {
    const buffer = new ReplayBuffer({ capacity: 5, sampleShape: [2], seed: 2, reinitProb: 0 });
    const { samples, indices } = buffer.sample(3);
    const moved = tf.add(samples, 100);
    buffer.update(indices, moved);
    const movedValues = moved.dataSync();
    indices.forEach((slot, r) =>
      expect(Array.from(buffer.get(slot))).toEqual(Array.from(movedValues.slice(r * 2, r * 2 + 2))),
    );
    const untouched = [0, 1, 2, 3, 4].filter((i) => !indices.includes(i));
    for (const i of untouched)
      for (const v of buffer.get(i)) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    tf.dispose([samples, moved]);
  });

  it('never restarts a chain by default (PCD), so every draw continues the stored chains', () => {
    const buffer = new ReplayBuffer({ capacity: 64, sampleShape: [2], seed: 8 });
    expect(buffer.reinitProb).toBe(0);
    for (let call = 0; call < 10; call++) {
      const { samples, indices, reinitialized } = buffer.sample(64);
      expect(Array.from(reinitialized)).toEqual(new Array(64).fill(0));
      const values = samples.dataSync();
      indices.forEach((slot, r) =>
        expect(Array.from(values.slice(r * 2, r * 2 + 2))).toEqual(Array.from(buffer.get(slot))),
      );
      // Move every chain far out of init's range: a restarted row would be back in [−1, 1].
      const moved = tf.add(samples, 10);
      buffer.update(indices, moved);
      tf.dispose([samples, moved]);
    }
    // Each chain is its start (in [−1, 1]) moved ten times by +10.
    for (let slot = 0; slot < 64; slot++)
      for (const v of buffer.get(slot)) {
        expect(v).toBeGreaterThanOrEqual(99);
        expect(v).toBeLessThanOrEqual(101);
      }
  });

  it('restarts chains with probability reinitProb', () => {
    const buffer = new ReplayBuffer({
      capacity: 1000,
      sampleShape: [1],
      init: 'normal',
      reinitProb: 0.05,
      seed: 3,
    });
    let restarted = 0;
    let drawn = 0;
    for (let i = 0; i < 20; i++) {
      const s = buffer.sample(500);
      restarted += s.reinitialized.reduce((a, b) => a + b, 0);
      drawn += 500;
      // A restarted row is fresh noise, not the stored chain.
      s.samples.dispose();
    }
    // Binomial(10000, 0.05): mean 500, sd ≈ 21.8.
    expect(Math.abs(restarted / drawn - 0.05)).toBeLessThan(0.0075);
    const always = new ReplayBuffer({
      capacity: 4,
      sampleShape: [1],
      reinitProb: 1,
      seed: 4,
      init: (out) => out.fill(7),
    });
    const s = always.sample(4);
    expect(Array.from(s.samples.dataSync())).toEqual([7, 7, 7, 7]);
    s.samples.dispose();
  });

  it('round-trips its state for checkpoints, continuing the same random stream', () => {
    const a = new ReplayBuffer({ capacity: 6, sampleShape: [2], seed: 5 });
    const saved = a.state();
    const b = new ReplayBuffer({ capacity: 6, sampleShape: [2], seed: 99 });
    b.restore(saved);
    const sa = a.sample(4);
    const sb = b.sample(4);
    expect(Array.from(sb.indices)).toEqual(Array.from(sa.indices));
    expect(Array.from(sb.samples.dataSync())).toEqual(Array.from(sa.samples.dataSync()));
    tf.dispose([sa.samples, sb.samples]);
    expect(() => b.restore({ ...saved, capacity: 7 })).toThrow(
      expect.objectContaining({ code: 'CORRUPT_FILE' }),
    );
  });

  it('rejects bad options and mismatched updates with clear errors', () => {
    expect(() => new ReplayBuffer({ capacity: 0, sampleShape: [2] })).toThrow(
      /capacity must be an integer >= 1/,
    );
    expect(() => new ReplayBuffer({ capacity: 2, sampleShape: [0] })).toThrow(/sampleShape/);
    expect(() => new ReplayBuffer({ capacity: 2, sampleShape: [2], reinitProb: 2 })).toThrow(
      /reinitProb/,
    );
    const buffer = new ReplayBuffer({ capacity: 3, sampleShape: [2], seed: 6 });
    expect(() => buffer.sample(4)).toThrow(EbmError);
    expect(() => buffer.update([0, 1], tf.zeros([3, 2]))).toThrow(
      /shape \[2, 2\].*received \[3, 2\]/,
    );
    expect(() => buffer.update([0, 0], tf.zeros([2, 2]))).toThrow(/twice/);
    expect(() => buffer.update([5], tf.zeros([1, 2]))).toThrow(/\[0, 2\]/);
    expect(() => buffer.update([0], tf.tensor2d([[Number.NaN, 0]]))).toThrow(/NaN/);
  });

  it('holds no tensors between steps', async () => {
    const buffer = new ReplayBuffer({ capacity: 8, sampleShape: [3], seed: 7 });
    await expectNoTensorLeak(() => {
      const { samples, indices } = buffer.sample(4);
      buffer.update(indices, samples);
      samples.dispose();
    });
  });
});
