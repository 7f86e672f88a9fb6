import { Rng } from '@ebmjs/core';
import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { minimumProbabilityFlow, type Reducer, ratioMatching } from '../src/index.js';
import {
  allStates,
  expectEbmError,
  flip,
  isingEnergyRef,
  type Mat,
  permuteRows,
  scalarOf,
  sigmoid,
  t2,
} from './reference.js';

useCpuBackend();

const D = 5;
// The "known small Ising model": couplings J_ij (i < j) and fields h_i over spins s = 2x − 1.
const J_TRUE: Mat = [
  [0, 0.6, -0.4, 0, 0.3],
  [0, 0, 0.5, -0.3, 0],
  [0, 0, 0, 0.4, -0.5],
  [0, 0, 0, 0, 0.6],
  [0, 0, 0, 0, 0],
];
const H_TRUE = [0.2, -0.3, 0.1, 0, -0.2];
const UPPER = tf.tensor2d(J_TRUE.map((r, i) => r.map((_, j) => (j > i ? 1 : 0))));

/** Ising energy with parameters θ = [W (d·d, only i < j used); h (d)]. */
function ising(theta: tf.Tensor) {
  return (x: tf.Tensor) =>
    tf.tidy(() => {
      const w = tf.mul(tf.reshape(tf.slice(theta, 0, D * D), [D, D]), UPPER);
      const h = tf.slice(theta, D * D, D);
      const s = tf.sub(tf.mul(x, 2), 1);
      return tf.neg(tf.add(tf.sum(tf.mul(tf.matMul(s, w), s), 1), tf.sum(tf.mul(s, h), 1)));
    });
}
const thetaOf = (j: Mat, h: number[]) => tf.tensor1d([...j.flat(), ...h]);

const rng = new Rng(3);
const batch: Mat = Array.from({ length: 6 }, () =>
  Array.from({ length: D }, () => (rng.next() < 0.5 ? 1 : 0)),
);
const rmRef = (xs: Mat, j: Mat, h: number[]) =>
  xs.reduce((acc, x) => {
    let s = 0;
    for (let b = 0; b < D; b++)
      s += sigmoid(isingEnergyRef(x, j, h) - isingEnergyRef(flip(x, b), j, h)) ** 2;
    return acc + s;
  }, 0) / xs.length;
const mpfRef = (xs: Mat, j: Mat, h: number[]) =>
  xs.reduce((acc, x) => {
    let s = 0;
    for (let b = 0; b < D; b++)
      s += Math.exp((isingEnergyRef(x, j, h) - isingEnergyRef(flip(x, b), j, h)) / 2);
    return acc + s;
  }, 0) / xs.length;

const losses = {
  ratioMatching: {
    make: (e: (x: tf.Tensor) => tf.Tensor, r?: Reducer) => ratioMatching(e, { reducer: r }),
    ref: rmRef,
  },
  minimumProbabilityFlow: {
    make: (e: (x: tf.Tensor) => tf.Tensor, r?: Reducer) =>
      minimumProbabilityFlow(e, { reducer: r }),
    ref: mpfRef,
  },
};
const names = Object.keys(losses) as (keyof typeof losses)[];

/** Exact Ising distribution by enumerating the 2^d states. */
function exactDistribution(): { states: Mat; p: number[] } {
  const states = allStates(D);
  const w = states.map((x) => Math.exp(-isingEnergyRef(x, J_TRUE, H_TRUE)));
  const z = w.reduce((a, b) => a + b, 0);
  return { states, p: w.map((v) => v / z) };
}

/** A reducer that weights each row (one per distinct state) by its frequency. */
const weightedBy = (weights: number[]): Reducer => ({
  name: 'weighted',
  reduce: (l) => tf.tidy(() => tf.sum(tf.mul(l, tf.tensor1d(weights))) as tf.Scalar),
});

function fit(
  name: keyof typeof losses,
  states: Mat,
  weights: number[],
  steps: number,
): { j: Mat; h: number[] } {
  const theta = tf.variable(tf.zeros([D * D + D]));
  const x = t2(states);
  const loss = losses[name].make(ising(theta), weightedBy(weights));
  const opt = tf.train.adam(0.1);
  for (let s = 0; s < steps; s++) opt.minimize(() => loss(x), false, [theta]);
  const v = Array.from(theta.dataSync());
  opt.dispose();
  tf.dispose([theta, x]);
  return { j: Array.from({ length: D }, (_, i) => v.slice(i * D, i * D + D)), h: v.slice(D * D) };
}

function maxCouplingError(j: Mat): number {
  let worst = 0;
  for (let a = 0; a < D; a++)
    for (let b = a + 1; b < D; b++) worst = Math.max(worst, Math.abs(j[a]![b]! - J_TRUE[a]![b]!));
  return worst;
}

describe.each(names)('%s', (name) => {
  const { make, ref } = losses[name];
  const theta0 = thetaOf(J_TRUE, H_TRUE);

  it('equals a direct loop over every data state and its single-bit flips', () => {
    expectClose(scalarOf(make(ising(theta0))(t2(batch))), ref(batch, J_TRUE, H_TRUE), {
      atol: 1e-5,
      rtol: 1e-6,
    });
  });

  it('has finite-difference gradients in the couplings and fields', () => {
    checkGradient((th) => make(ising(th))(t2(batch)), theta0, { eps: 1e-2 });
  });

  it('is invariant under permuting the data and under shifting the energy', () => {
    const base = ref(batch, J_TRUE, H_TRUE);
    expectClose(scalarOf(make(ising(theta0))(t2(permuteRows(batch, [5, 3, 1, 0, 2, 4])))), base, {
      atol: 1e-5,
      rtol: 1e-6,
    });
    // Only energy differences enter: no partition function.
    const shifted = make((x) => tf.add(ising(theta0)(x), 100))(t2(batch));
    expectClose(scalarOf(shifted), base, { atol: 1e-4, rtol: 1e-5 });
  });

  it('rejects non-binary data, empty batches and energies of the wrong shape', () => {
    const l = make(ising(theta0));
    expectEbmError(() => l(t2([[0, 1, 0.5, 1, 0]])), 'INVALID_ARGUMENT', /binary states/);
    expectEbmError(() => l(tf.zeros([0, D])), 'BATCH_TOO_SMALL', /batch size must be at least 1/);
    expectEbmError(
      () => make((x) => tf.sum(x))(t2(batch)),
      'SHAPE_MISMATCH',
      /one float32 energy per state, shape \[6\]/,
    );
  });

  it('leaks no tensors', async () => {
    const x = t2(batch);
    await expectNoTensorLeak(() => make(ising(theta0))(x));
    await expectNoTensorLeak(() => tf.grad((th: tf.Tensor) => make(ising(th))(x))(theta0));
  });

  it('fitted to exact samples of a 5-spin Ising model recovers its couplings', () => {
    const { states, p } = exactDistribution();
    // Exact samples: inverse-CDF draws from the enumerated distribution.
    const draw = new Rng(17);
    const n = 5000;
    const counts = new Array<number>(states.length).fill(0);
    for (let s = 0; s < n; s++) {
      let u = draw.next();
      let k = 0;
      while (k < states.length - 1) {
        u -= p[k]!;
        if (u < 0) break;
        k++;
      }
      counts[k]!++;
    }
    // Rows are the 32 distinct states weighted by their sample counts: the same objective as
    // the mean over the n samples (checked here once), at 32 rows per step instead of 5000.
    const samples = states.flatMap((x, k) => Array.from({ length: counts[k]! }, () => x));
    const direct = make(ising(theta0))(t2(samples));
    const weighted = make(ising(theta0), weightedBy(counts.map((c) => c / n)))(t2(states));
    expectClose(scalarOf(weighted), scalarOf(direct), { atol: 1e-4, rtol: 1e-5 });

    const fromSamples = fit(
      name,
      states,
      counts.map((c) => c / n),
      150,
    );
    expect(maxCouplingError(fromSamples.j)).toBeLessThan(0.1);
    expectClose(fromSamples.h, H_TRUE, { atol: 0.1 });
    // The estimator is consistent: with the exact probabilities as weights it is exact.
    const fromTruth = fit(name, states, p, 150);
    expect(maxCouplingError(fromTruth.j)).toBeLessThan(2e-3);
    expectClose(fromTruth.h, H_TRUE, { atol: 2e-3 });
  });
});

describe('minimumProbabilityFlow stability', () => {
  it('log: true gives log K, finite where K overflows', () => {
    const theta = thetaOf(J_TRUE, H_TRUE);
    const k = mpfRef(batch, J_TRUE, H_TRUE);
    expectClose(
      scalarOf(minimumProbabilityFlow(ising(theta), { log: true })(t2(batch))),
      Math.log(k),
      { atol: 1e-5 },
    );
    const huge = thetaOf(
      J_TRUE.map((r) => r.map((v) => 300 * v)),
      H_TRUE.map((v) => 300 * v),
    );
    const logFlow = minimumProbabilityFlow(ising(tf.variable(huge)), { log: true });
    const { value, grad } = tf.valueAndGrad((th: tf.Tensor) =>
      minimumProbabilityFlow(ising(th), { log: true })(t2(batch)),
    )(huge);
    expect(
      Number.isFinite(value.dataSync()[0]!) && Array.from(grad.dataSync()).every(Number.isFinite),
    ).toBe(true);
    expect(Number.isFinite(scalarOf(logFlow(t2(batch))))).toBe(true);
    expect(Number.isFinite(scalarOf(ratioMatching(ising(huge))(t2(batch))))).toBe(true);
    expectEbmError(
      () =>
        minimumProbabilityFlow(ising(theta), {
          log: true,
          reducer: { name: 'x', reduce: (l) => tf.sum(l) as tf.Scalar },
        }),
      'INVALID_ARGUMENT',
      /no reducer/,
    );
  });
});
