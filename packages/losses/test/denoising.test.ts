import { Rng } from '@ebmjs/core';
import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  denoisingAutoencoderLoss,
  denoisingScoreMatching,
  reconstructionEnergy,
  scoreFromEnergy,
} from '../src/index.js';
import {
  expectEbmError,
  expectFiniteWithGradient,
  type Mat,
  permuteRows,
  randn,
  scalarOf,
  t2,
} from './reference.js';

useCpuBackend();

const data = randn(6, 2, 81);
const eps = randn(6, 2, 82);
const SIGMA = 0.4;
// Gaussian model: energy ½ Σ_i (x_i − m_i)² / v_i, score −(x − m)/v; θ = [m; log v].
const M = [0.3, -0.6];
const V = [0.8, 1.5];
const theta0 = () => tf.tensor1d([...M, ...V.map(Math.log)]);
const parts = (theta: tf.Tensor) => {
  const [m, logV] = tf.split(theta, 2);
  return { m: m!, v: tf.exp(logV!) };
};
const energyOf = (theta: tf.Tensor) => (x: tf.Tensor) =>
  tf.tidy(() => {
    const { m, v } = parts(theta);
    return tf.mul(tf.sum(tf.div(tf.square(tf.sub(x, m)), v), 1), 0.5);
  });
const scoreOf = (theta: tf.Tensor) => (x: tf.Tensor) =>
  tf.tidy(() => {
    const { m, v } = parts(theta);
    return tf.neg(tf.div(tf.sub(x, m), v));
  });
const dsmRef = (xs: Mat, es: Mat, sigma: number) =>
  xs.reduce((acc, x, r) => {
    let s = 0;
    x.forEach((xi, i) => {
      const noisy = xi + sigma * es[r]![i]!;
      const score = -(noisy - M[i]!) / V[i]!;
      s += (score + es[r]![i]! / sigma) ** 2;
    });
    return acc + 0.5 * s;
  }, 0) / xs.length;
// A fixed linear reconstruction r(x) = x A + b.
const A = [
  [0.7, 0.2],
  [-0.1, 0.9],
];
const B = [0.05, -0.1];
const reconstruct = (x: tf.Tensor) =>
  tf.tidy(() => tf.add(tf.matMul(x, tf.tensor2d(A)), tf.tensor1d(B)));
const rRef = (x: number[]) => [0, 1].map((j) => x[0]! * A[0]![j]! + x[1]! * A[1]![j]! + B[j]!);

describe('denoisingScoreMatching', () => {
  it('equals ½‖s(x + σε) + ε/σ‖² averaged over a direct loop, for a score and for an energy', () => {
    const dsm = denoisingScoreMatching({ sigma: SIGMA });
    expectClose(scalarOf(dsm(scoreOf(theta0()), t2(data), t2(eps))), dsmRef(data, eps, SIGMA), {
      atol: 1e-5,
    });
    expectClose(
      scalarOf(dsm(scoreFromEnergy(energyOf(theta0())), t2(data), t2(eps))),
      dsmRef(data, eps, SIGMA),
      { atol: 1e-5 },
    );
  });

  it('has finite-difference gradients, also through −∇E (double backprop)', () => {
    const dsm = denoisingScoreMatching({ sigma: SIGMA });
    checkGradient((th) => dsm(scoreOf(th), t2(data), t2(eps)), theta0());
    checkGradient((th) => dsm(scoreFromEnergy(energyOf(th)), t2(data), t2(eps)), theta0());
  });

  it('is invariant under permuting examples with their noise', () => {
    const dsm = denoisingScoreMatching({ sigma: SIGMA });
    const p = [4, 2, 0, 5, 1, 3];
    expectClose(
      scalarOf(dsm(scoreOf(theta0()), t2(permuteRows(data, p)), t2(permuteRows(eps, p)))),
      dsmRef(data, eps, SIGMA),
      { atol: 1e-5 },
    );
  });

  it('fitted with an energy model recovers the data mean and the σ-smoothed variance', () => {
    // Data ~ N(μ, s²) per axis. The DSM optimum is the score of the data convolved with
    // N(0, σ²): mean μ, variance s² + σ².
    const rng = new Rng(31);
    const mu = [1, -2];
    const s = 0.5;
    const sigma = 0.3;
    const x = tf.tensor2d(Array.from({ length: 512 }, () => mu.map((m) => m + s * rng.normal())));
    const theta = tf.variable(tf.zeros([4]));
    const dsm = denoisingScoreMatching({ sigma, seed: 8 });
    const opt = tf.train.adam(0.05);
    for (let step = 0; step < 250; step++)
      opt.minimize(() => dsm(scoreFromEnergy(energyOf(theta)), x), false, [theta]);
    const v = Array.from(theta.dataSync());
    expectClose(v.slice(0, 2), mu, { atol: 0.08 });
    expectClose(v.slice(2).map(Math.exp), [s * s + sigma * sigma, s * s + sigma * sigma], {
      atol: 0.05,
    });
    opt.dispose();
    tf.dispose([x, theta]);
  });

  it('stays finite for data of norm 1e3 and for σ = 1e-3', () => {
    const far = t2(randn(6, 2, 83, 1e3));
    expectFiniteWithGradient(
      (th) => denoisingScoreMatching({ sigma: SIGMA })(scoreOf(th), far, t2(eps)),
      theta0(),
    );
    expectFiniteWithGradient(
      (th) => denoisingScoreMatching({ sigma: 1e-3 })(scoreOf(th), t2(data), t2(eps)),
      theta0(),
    );
  });

  it('rejects bad σ, empty batches, mismatched noise and scores of the wrong shape', () => {
    expectEbmError(() => denoisingScoreMatching({ sigma: 0 }), 'INVALID_ARGUMENT', /sigma/);
    const dsm = denoisingScoreMatching({ sigma: SIGMA });
    expectEbmError(() => dsm(scoreOf(theta0()), tf.zeros([0, 2])), 'BATCH_TOO_SMALL', /at least 1/);
    expectEbmError(
      () => dsm(scoreOf(theta0()), t2(data), t2(randn(5, 2, 1))),
      'SHAPE_MISMATCH',
      /same shape/,
    );
    expectEbmError(
      () => dsm((v) => tf.sum(v, 1), t2(data), t2(eps)),
      'SHAPE_MISMATCH',
      /shape of its input \[6, 2\]/,
    );
  });

  it('leaks no tensors, drawing noise and double-differentiating inside a gradient', async () => {
    const dsm = denoisingScoreMatching({ sigma: SIGMA, seed: 2 });
    const th = tf.variable(theta0());
    const x = t2(data);
    await expectNoTensorLeak(() =>
      tf.variableGrads(() => dsm(scoreFromEnergy(energyOf(th)), x), [th]),
    );
    await expectNoTensorLeak(() => dsm(scoreOf(th), x));
  });
});

describe('denoising autoencoder', () => {
  it('reconstructionEnergy is ‖r(x) − x‖² per row', () => {
    const e = reconstructionEnergy(reconstruct)(t2(data));
    expectClose(
      e.dataSync(),
      data.map((x) => rRef(x).reduce((s, v, i) => s + (v - x[i]!) ** 2, 0)),
      { atol: 1e-5 },
    );
  });

  it('the loss is ‖r(x + σε) − x‖², 2σ⁴ times DSM with s(x̃) = (r(x̃) − x̃)/σ² (Vincent 2011)', () => {
    const dae = denoisingAutoencoderLoss({ sigma: SIGMA });
    const expected =
      data.reduce((acc, x, r) => {
        const noisy = x.map((v, i) => v + SIGMA * eps[r]![i]!);
        return acc + rRef(noisy).reduce((s, v, i) => s + (v - x[i]!) ** 2, 0);
      }, 0) / data.length;
    const value = scalarOf(dae(reconstruct, t2(data), t2(eps)));
    expectClose(value, expected, { atol: 1e-5 });
    const score = (x: tf.Tensor) => tf.div(tf.sub(reconstruct(x), x), SIGMA ** 2);
    const dsm = scalarOf(denoisingScoreMatching({ sigma: SIGMA })(score, t2(data), t2(eps)));
    expectClose(value, 2 * SIGMA ** 4 * dsm, { atol: 1e-5 });
  });

  it('has finite-difference gradients, is permutation invariant, and leaks nothing', async () => {
    const dae = denoisingAutoencoderLoss({ sigma: SIGMA });
    const linear = (w: tf.Tensor) => (x: tf.Tensor) => tf.matMul(x, tf.reshape(w, [2, 2]));
    checkGradient((w) => dae(linear(w), t2(data), t2(eps)), tf.tensor1d(A.flat()));
    const p = [5, 4, 3, 2, 1, 0];
    const base = scalarOf(dae(reconstruct, t2(data), t2(eps)));
    expectClose(
      scalarOf(dae(reconstruct, t2(permuteRows(data, p)), t2(permuteRows(eps, p)))),
      base,
      { atol: 1e-5 },
    );
    expectEbmError(
      () => dae((x) => tf.sum(x, 1), t2(data)),
      'SHAPE_MISMATCH',
      /shape of its input/,
    );
    const x = t2(data);
    await expectNoTensorLeak(() => dae(reconstruct, x));
    await expectNoTensorLeak(() => reconstructionEnergy(reconstruct)(x));
    expect(Number.isFinite(scalarOf(dae(reconstruct, t2(randn(6, 2, 84, 1e3)))))).toBe(true);
  });
});
