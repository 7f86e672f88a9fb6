import { expectClose, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW, cosineSchedule, createOptimizer, Lars, setLearningRate } from '../src/index.js';

useCpuBackend();

const w0 = [
  [0.5, -1],
  [2, 0.25],
];
const b0 = [0.1, -0.2];
const loss = (w: tf.Variable, b: tf.Variable) => () =>
  tf.add(tf.sum(tf.square(tf.sub(w, 1))), tf.sum(tf.mul(b, 3))) as tf.Scalar;

describe('AdamW', () => {
  it('takes the decoupled step θ − lr·(m̂/(√v̂+ε) + λθ), and no decay on rank-1 parameters', () => {
    const w = tf.variable(tf.tensor2d(w0));
    const b = tf.variable(tf.tensor1d(b0));
    const opt = new AdamW({ learningRate: 0.1, weightDecay: 0.5 });
    opt.minimize(loss(w, b));
    // Step 1: m̂ = g, v̂ = g², so the Adam part is g/(|g| + ε) = sign(g).
    const g = w0.flat().map((v) => 2 * (v - 1));
    const expectedW = w0.flat().map((v, i) => v - 0.1 * (Math.sign(g[i]!) + 0.5 * v));
    expectClose(w.dataSync(), expectedW, { atol: 1e-5 });
    expectClose(
      b.dataSync(),
      b0.map((v) => v - 0.1 * 1),
      { atol: 1e-5 },
    );
    opt.dispose();
    tf.dispose([w, b]);
  });

  it('resumes exactly from getWeights/setWeights', async () => {
    const run = async (split: boolean) => {
      const w = tf.variable(tf.tensor2d(w0), true, `w-${split}`);
      const b = tf.variable(tf.tensor1d(b0), true, `b-${split}`);
      let opt = new AdamW({ learningRate: 0.05 });
      opt.minimize(loss(w, b));
      if (split) {
        const saved = (await opt.getWeights()).map((n) => ({
          name: n.name,
          tensor: n.tensor.clone(),
        }));
        opt.dispose();
        opt = new AdamW({ learningRate: 0.05 });
        await opt.setWeights(saved);
        tf.dispose(saved.map((s) => s.tensor));
      }
      opt.minimize(loss(w, b));
      opt.minimize(loss(w, b));
      const out = Array.from(w.dataSync());
      opt.dispose();
      tf.dispose([w, b]);
      return out;
    };
    expect(await run(true)).toEqual(await run(false));
  });
});

describe('Lars', () => {
  it('scales each layer by the trust ratio η‖w‖/(‖g‖ + λ‖w‖) and applies momentum', () => {
    const w = tf.variable(tf.tensor2d(w0));
    const b = tf.variable(tf.tensor1d(b0));
    const opt = new Lars({
      learningRate: 0.5,
      momentum: 0.9,
      weightDecay: 0.01,
      trustCoefficient: 0.02,
    });
    opt.minimize(loss(w, b));
    const flat = w0.flat();
    const g = flat.map((v) => 2 * (v - 1));
    const wNorm = Math.hypot(...flat);
    const gNorm = Math.hypot(...g);
    const trust = (0.02 * wNorm) / (gNorm + 0.01 * wNorm);
    const step1 = flat.map((v, i) => 0.5 * trust * (g[i]! + 0.01 * v));
    expectClose(
      w.dataSync(),
      flat.map((v, i) => v - step1[i]!),
      { atol: 1e-6 },
    );
    // Biases: plain momentum SGD, no decay or trust ratio.
    expectClose(
      b.dataSync(),
      b0.map((v) => v - 0.5 * 3),
      { atol: 1e-6 },
    );
    opt.dispose();
    tf.dispose([w, b]);
  });
});

describe('cosineSchedule and createOptimizer', () => {
  it('warms up linearly, then follows the cosine to minLr', () => {
    const lr = cosineSchedule({ baseLr: 1, totalSteps: 110, warmupSteps: 10, minLr: 0.1 });
    expect(lr(0)).toBeCloseTo(0.1);
    expect(lr(9)).toBeCloseTo(1);
    expect(lr(10)).toBeCloseTo(1);
    expect(lr(60)).toBeCloseTo(0.55);
    expect(lr(110)).toBeCloseTo(0.1);
    expect(() => cosineSchedule({ baseLr: 1, totalSteps: 5, warmupSteps: 5 })).toThrow(
      /warmupSteps \(5\) must be less than totalSteps \(5\)/,
    );
  });

  it('builds every optimizer and sets their learning rates', () => {
    for (const name of ['sgd', 'adam', 'adamw', 'lars'] as const) {
      const w = tf.variable(tf.scalar(1));
      const opt = createOptimizer({ name, learningRate: 0.1 });
      setLearningRate(opt, 0);
      opt.minimize(() => tf.square(w) as tf.Scalar);
      // Learning rate 0: nothing moves (for every optimizer, so the schedule reaches each of them).
      expect(w.dataSync()[0]).toBeCloseTo(1, 6);
      opt.dispose();
      w.dispose();
    }
    expect(() => createOptimizer({ name: 'rmsprop' as 'sgd', learningRate: 1 })).toThrow(
      /Unknown optimizer "rmsprop"/,
    );
  });

  it('frees every tensor it created when disposed (tfjs momentum alone leaks its lr scalar)', () => {
    for (const name of ['sgd', 'adam', 'adamw', 'lars'] as const) {
      const w = tf.variable(tf.scalar(1));
      const before = tf.memory().numTensors;
      const opt = createOptimizer({ name, learningRate: 0.1 });
      setLearningRate(opt, 0.05);
      opt.minimize(() => tf.square(w) as tf.Scalar);
      opt.dispose();
      expect(tf.memory().numTensors, name).toBe(before);
      w.dispose();
    }
  });
});
