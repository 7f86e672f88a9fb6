import { expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EbmError, langevin } from '../src/index.js';

useCpuBackend();

// E(x) = ½ (x − μ)ᵀ Σ⁻¹ (x − μ): its Boltzmann distribution is N(μ, Σ).
const mu = [1, -2];
const sigma = [
  [1.0, 0.6],
  [0.6, 0.8],
];
const det = sigma[0]![0]! * sigma[1]![1]! - sigma[0]![1]! * sigma[1]![0]!;
const precision = tf.tensor2d([
  [sigma[1]![1]! / det, -sigma[0]![1]! / det],
  [-sigma[1]![0]! / det, sigma[0]![0]! / det],
]);
const gaussianEnergy = (x: tf.Tensor) =>
  tf.tidy(() => {
    const d = tf.sub(x, tf.tensor1d(mu));
    return tf.mul(0.5, tf.sum(tf.mul(tf.matMul(d, precision), d), 1));
  });

function moments(samples: Float32Array, n: number) {
  const m = [0, 0];
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) m[j]! += samples[i * 2 + j]! / n;
  const c = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++)
        c[a * 2 + b]! += ((samples[i * 2 + a]! - m[a]!) * (samples[i * 2 + b]! - m[b]!)) / n;
    }
  }
  return { mean: m, cov: c };
}

describe('langevin', () => {
  it('recovers the mean and covariance of a 2-D Gaussian energy', () => {
    const n = 4000;
    const init = tf.randomUniform([n, 2], -4, 4, 'float32', 11);
    const { samples, energies } = langevin(gaussianEnergy, init, {
      steps: 400,
      stepSize: 0.02,
      seed: 5,
    });
    const { mean, cov } = moments(samples.dataSync() as Float32Array, n);
    expect(mean[0]).toBeCloseTo(mu[0]!, 1);
    expect(mean[1]).toBeCloseTo(mu[1]!, 1);
    const target = sigma.flat();
    cov.forEach((v, i) => expect(Math.abs(v - target[i]!)).toBeLessThan(0.08));
    // At equilibrium the mean energy of a 2-D Gaussian is d/2 = 1.
    expect(energies).toHaveLength(401);
    expect(energies[0]!).toBeGreaterThan(3);
    expect(Math.abs(energies[400]! - 1)).toBeLessThan(0.1);
    samples.dispose();
    init.dispose();
  });

  it('descends the energy without noise, clips gradients and clamps to the data range', () => {
    const init = tf.tensor2d([[5, 5]]);
    const plain = langevin(gaussianEnergy, init, { steps: 200, stepSize: 0.1, noiseScale: 0 });
    const [x0, x1] = plain.samples.dataSync();
    expect(x0).toBeCloseTo(mu[0]!, 3);
    expect(x1).toBeCloseTo(mu[1]!, 3);
    expect(plain.energies[200]!).toBeLessThan(1e-5);
    // One step with gradient clipping moves each coordinate by at most stepSize·gradClip.
    const clipped = langevin(gaussianEnergy, init, {
      steps: 1,
      stepSize: 0.1,
      noiseScale: 0,
      gradClip: 0.5,
    });
    const moved = Array.from(clipped.samples.dataSync()).map((v) => Math.abs(v - 5));
    moved.forEach((m) => expect(m).toBeCloseTo(0.05, 6));
    const clamped = langevin(gaussianEnergy, init, {
      steps: 50,
      stepSize: 0.1,
      clamp: [0, 1],
      seed: 1,
    });
    for (const v of clamped.samples.dataSync()) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    tf.dispose([plain.samples, clipped.samples, clamped.samples]);
  });

  it('is reproducible from its seed', () => {
    const init = tf.zeros([3, 2]);
    const a = langevin(gaussianEnergy, init, { steps: 5, seed: 42 });
    const b = langevin(gaussianEnergy, init, { steps: 5, seed: 42 });
    const c = langevin(gaussianEnergy, init, { steps: 5, seed: 43 });
    expect(Array.from(a.samples.dataSync())).toEqual(Array.from(b.samples.dataSync()));
    expect(Array.from(a.samples.dataSync())).not.toEqual(Array.from(c.samples.dataSync()));
  });

  it('leaks no tensors and rejects bad options and energies', async () => {
    const init = tf.zeros([2, 2]);
    await expectNoTensorLeak(() => langevin(gaussianEnergy, init, { steps: 3, seed: 1 }).samples);
    expect(() => langevin(gaussianEnergy, init, { stepSize: -1 })).toThrow(
      /stepSize must be a finite number > 0/,
    );
    expect(() => langevin(gaussianEnergy, init, { clamp: [1, 0] })).toThrow(EbmError);
    // A throw inside tf.grad leaves tfjs's tape holding saved tensors unless core closes it.
    const before = tf.memory().numTensors;
    expect(() => langevin((x) => tf.sum(tf.exp(x)), init, { steps: 2 })).toThrow(
      /one energy per state, shape \[2\], received \[\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('samples inside an enclosing gradient', () => {
  it('are constants: d/dθ [θ · mean(samples(θ))] = mean(samples)', () => {
    const theta = tf.scalar(1.5);
    const init = tf.zeros([64, 1]);
    let drawn = 0;
    const grad = tf.grad((t: tf.Tensor) => {
      const energy = (x: tf.Tensor) => tf.mul(0.5, tf.sum(tf.square(tf.sub(x, t)), 1));
      const { samples } = langevin(energy, init, { steps: 10, stepSize: 0.1, seed: 3 });
      const m = tf.mean(samples);
      drawn = m.dataSync()[0]!;
      return tf.mul(t, m) as tf.Scalar;
    })(theta);
    expect(grad.dataSync()[0]).toBeCloseTo(drawn, 5);
  });
});
