import { langevin, ReplayBuffer } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type CdSamplerFn, contrastiveDivergence } from '../src/index.js';
import { expectEbmError, randn, scalarOf, t2 } from './reference.js';

useCpuBackend();

const quadratic = (x: tf.Tensor) => tf.tidy(() => tf.mul(0.5, tf.sum(tf.square(x), 1)));

/** Rows of a [n, d] array as strings, sorted: the multiset of chains, whatever their order. */
const rowSet = (values: ArrayLike<number>, d: number): string[] => {
  const rows: string[] = [];
  for (let r = 0; r < values.length / d; r++)
    rows.push(
      Array.from(values)
        .slice(r * d, (r + 1) * d)
        .join(','),
    );
  return rows.sort();
};

/** A deterministic sampler that records the chains it was started from and moves each by +shift. */
const recordingSampler = (shift: number) => {
  const inits: Float32Array[] = [];
  const outputs: Float32Array[] = [];
  const fn: CdSamplerFn = (_energy, init) => {
    inits.push(Float32Array.from(init.dataSync()));
    const samples = tf.add(init, shift);
    outputs.push(Float32Array.from(samples.dataSync()));
    return { samples };
  };
  return { fn, inits, outputs };
};

describe('contrastiveDivergence persistent: true (Tieleman PCD)', () => {
  it('starts its chains at the first batch and continues exactly those chains on every call', () => {
    const data = t2(randn(6, 2, 3));
    const rec = recordingSampler(1);
    const pcd = contrastiveDivergence({ sampler: rec.fn, persistent: true, seed: 7 });
    for (let call = 0; call < 6; call++) pcd.sample(quadratic, data).dispose();
    expect(pcd.buffer?.reinitProb).toBe(0);
    expect(rowSet(rec.inits[0]!, 2)).toEqual(rowSet(data.dataSync(), 2));
    // No chain was ever restarted: each call starts from what the previous call left.
    for (let call = 1; call < 6; call++)
      expect(rowSet(rec.inits[call]!, 2)).toEqual(rowSet(rec.outputs[call - 1]!, 2));
    expect(rowSet(pcd.buffer!.state().data, 2)).toEqual(rowSet(rec.outputs[5]!, 2));
    data.dispose();
  });

  it('with Langevin, the chains after k steps are the previous chains moved k more steps', () => {
    const data = t2(randn(8, 2, 4, 2));
    const samplerOptions = { stepSize: 0.05, noiseScale: 0 };
    const pcd = contrastiveDivergence({ k: 5, persistent: true, samplerOptions, seed: 11 });
    let previous = pcd.sample(quadratic, data);
    for (let call = 0; call < 3; call++) {
      const next = pcd.sample(quadratic, data);
      const continued = langevin(quadratic, previous, { ...samplerOptions, steps: 5, seed: 1 });
      const got = rowSet(next.dataSync(), 2).map((r) => r.split(',').map(Number));
      const want = rowSet(continued.samples.dataSync(), 2).map((r) => r.split(',').map(Number));
      expectClose(got.flat(), want.flat(), { atol: 1e-6 });
      tf.dispose([previous, continued.samples]);
      previous = next;
    }
    previous.dispose();
    data.dispose();
  });

  it('keeps `chains` chains, repeating the first batch, and draws all of them every call', () => {
    const data = t2(randn(3, 2, 5));
    const rec = recordingSampler(1);
    const pcd = contrastiveDivergence({ sampler: rec.fn, persistent: true, chains: 7, seed: 2 });
    const s = pcd.sample(quadratic, data);
    expect(s.shape).toEqual([7, 2]);
    // Rows 0, 1, 2, 0, 1, 2, 0 of the batch.
    const values = data.dataSync();
    const cycled = Array.from({ length: 14 }, (_, i) => values[i % 6]!);
    expect(rowSet(rec.inits[0]!, 2)).toEqual(rowSet(cycled, 2));
    const l = pcd(quadratic, data);
    expect(Number.isFinite(scalarOf(l))).toBe(true);
    expect(rowSet(rec.inits[1]!, 2)).toEqual(rowSet(rec.outputs[0]!, 2));
    tf.dispose([s, data]);
  });

  it('a default ReplayBuffer also never restarts: each call continues the stored chains', () => {
    const data = t2(randn(8, 2, 6));
    const rec = recordingSampler(10);
    const buffer = new ReplayBuffer({ capacity: 8, sampleShape: [2], seed: 3 });
    const pcd = contrastiveDivergence({ sampler: rec.fn, persistent: buffer, seed: 1 });
    for (let call = 0; call < 20; call++) pcd.sample(quadratic, data).dispose();
    expect(pcd.buffer).toBe(buffer);
    for (let call = 1; call < 20; call++)
      expect(rowSet(rec.inits[call]!, 2)).toEqual(rowSet(rec.outputs[call - 1]!, 2));
    data.dispose();
  });

  it('restarts chains from noise only when asked, with restartProb (JEM-style)', () => {
    const data = t2(randn(200, 2, 7, 0.1));
    const rec = recordingSampler(10);
    const jem = contrastiveDivergence({
      sampler: rec.fn,
      persistent: true,
      restartProb: 0.05,
      seed: 8,
    });
    for (let call = 0; call < 10; call++) jem.sample(quadratic, data).dispose();
    expect(jem.buffer?.reinitProb).toBe(0.05);
    // A continued chain has moved by ≥ 10; a restarted one is fresh uniform noise in [−1, 1].
    let restarted = 0;
    for (let call = 1; call < 10; call++) {
      const init = rec.inits[call]!;
      for (let r = 0; r < 200; r++) if (Math.abs(init[2 * r]!) <= 1) restarted++;
    }
    // Binomial(1800, 0.05): mean 90, sd ≈ 9.2.
    expect(restarted).toBeGreaterThan(50);
    expect(restarted).toBeLessThan(130);
    data.dispose();
  });

  it('restarts binary chains to binary states for Gibbs', () => {
    const data = tf.tensor2d(
      Array.from({ length: 16 }, (_, i) => [i % 2, (i >> 1) % 2, (i >> 2) % 2]),
    );
    const energy = (x: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(x, tf.tensor1d([1, -1, 0.5])), 1));
    const cd = contrastiveDivergence({
      sampler: 'gibbs',
      persistent: true,
      restartProb: 0.5,
      seed: 3,
    });
    for (let call = 0; call < 4; call++) {
      const s = cd.sample(energy, data);
      for (const v of s.dataSync()) expect(v === 0 || v === 1).toBe(true);
      s.dispose();
    }
    data.dispose();
  });

  it('rejects restartProb without persistent: true, and bad persistent values', () => {
    expectEbmError(
      () => contrastiveDivergence({ restartProb: 0.05 }),
      'INVALID_ARGUMENT',
      /restartProb needs persistent: true/,
    );
    expectEbmError(
      () =>
        contrastiveDivergence({
          persistent: new ReplayBuffer({ capacity: 2, sampleShape: [2] }),
          restartProb: 0.05,
        }),
      'INVALID_ARGUMENT',
      /reinitProb/,
    );
    expectEbmError(
      () => contrastiveDivergence({ persistent: true, restartProb: 2 }),
      'INVALID_ARGUMENT',
      /restartProb/,
    );
    expectEbmError(
      () => contrastiveDivergence({ persistent: 'yes' as never }),
      'INVALID_ARGUMENT',
      /persistent must be true, false or a ReplayBuffer, received yes/,
    );
    const pcd = contrastiveDivergence({ persistent: true, k: 1 });
    expect(pcd.buffer).toBeUndefined();
    const x = t2(randn(4, 2, 9));
    pcd.sample(quadratic, x).dispose();
    expectEbmError(() => pcd(quadratic, t2(randn(4, 3, 9))), 'SHAPE_MISMATCH', /sampleShape/);
    x.dispose();
  });

  it('leaks no tensors, sampling inside a gradient', async () => {
    const th = tf.variable(tf.scalar(1));
    const e = (x: tf.Tensor) => tf.tidy(() => tf.mul(th, quadratic(x)));
    const pcd = contrastiveDivergence({ k: 2, persistent: true, seed: 4 });
    const x = t2(randn(5, 2, 10));
    await expectNoTensorLeak(() => tf.variableGrads(() => pcd(e, x), [th]));
    await expectNoTensorLeak(() => tf.variableGrads(() => pcd(e, x), [th]));
    tf.dispose([x, th]);
  });
});
