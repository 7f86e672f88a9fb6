import { ReplayBuffer, Rng, stopGradient, untaped } from '@ebmjs/core';
import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  contrastiveDivergence,
  marginLosses,
  nce,
  negativeLogLikelihood,
  noiseDistributions,
  reducers,
} from '../src/index.js';
import {
  expectEbmError,
  expectFiniteWithGradient,
  nllRef,
  offendingRef,
  permuteRows,
  randn,
  scalarOf,
  softplus,
  t2,
} from './reference.js';

useCpuBackend();

const energies = randn(5, 4, 51);
const targets = [2, 0, 3, 3, 1];
const ROWS = [3, 1, 4, 0, 2];

describe('negativeLogLikelihood', () => {
  it('equals E(x, y*) + (1/β) log Σ_y exp(−βE(x, y)) computed directly', () => {
    for (const beta of [1, 0.5, 5]) {
      const l = negativeLogLikelihood({ beta });
      expectClose(scalarOf(l(t2(energies), targets)), nllRef(energies, targets, beta), {
        atol: 1e-5,
      });
    }
    const sum = negativeLogLikelihood({ reducer: reducers.sum() })(
      t2(energies),
      tf.tensor1d(targets, 'int32'),
    );
    expectClose(scalarOf(sum), 5 * nllRef(energies, targets, 1), { atol: 1e-4 });
  });

  it('has finite-difference gradients, and ignores a common shift of the energies', () => {
    checkGradient((e) => negativeLogLikelihood({ beta: 2 })(e, targets), t2(energies));
    // Maximum likelihood only sees energy differences (the lecture's point).
    const shifted = energies.map((r) => r.map((v) => v + 7));
    expectClose(
      scalarOf(negativeLogLikelihood()(t2(shifted), targets)),
      nllRef(energies, targets, 1),
      { atol: 1e-5 },
    );
  });

  it('is invariant under permuting examples and answers', () => {
    const base = nllRef(energies, targets, 1);
    const l = negativeLogLikelihood();
    expectClose(scalarOf(l(t2(permuteRows(energies, ROWS)), permuteRows(targets, ROWS))), base, {
      atol: 1e-5,
    });
    const answers = [2, 3, 0, 1]; // new column j holds old column answers[j]
    const permuted = energies.map((r) => answers.map((j) => r[j]!));
    expectClose(
      scalarOf(
        l(
          t2(permuted),
          targets.map((t) => answers.indexOf(t)),
        ),
      ),
      base,
      { atol: 1e-5 },
    );
  });

  it('stays finite for energies of 1e4 at β = 100', () => {
    const big = energies.map((r) => r.map((v) => 1e4 * v));
    expectFiniteWithGradient((e) => negativeLogLikelihood({ beta: 100 })(e, targets), t2(big));
  });

  it('rejects one answer and out-of-range targets', () => {
    const l = negativeLogLikelihood();
    expectEbmError(
      () => l(t2([[1], [2]]), [0, 0]),
      'BATCH_TOO_SMALL',
      /number of answers must be at least 2, received 1/,
    );
    expectEbmError(
      () => l(t2(energies), [0, 1, 4, 0, 0]),
      'INVALID_ARGUMENT',
      /targets\[2\] must be an answer index.*\[0, 3\], received 4/,
    );
    expectEbmError(() => l(t2(energies), [0, 1]), 'SHAPE_MISMATCH', /one label per row/);
  });

  it('with the exact partition function, fitted to samples of a discrete energy, recovers the true distribution', () => {
    const trueEnergy = [0.5, 1.5, 0, 2.2, 1.0, 3.0];
    const k = trueEnergy.length;
    const z = trueEnergy.reduce((s, e) => s + Math.exp(-e), 0);
    const pTrue = trueEnergy.map((e) => Math.exp(-e) / z);
    const rng = new Rng(7);
    const n = 4000;
    const samples = Array.from({ length: n }, () => {
      let u = rng.next();
      for (let y = 0; y < k; y++) {
        u -= pTrue[y]!;
        if (u < 0) return y;
      }
      return k - 1;
    });
    const pEmpirical = pTrue.map((_, y) => samples.filter((s) => s === y).length / n);
    // A tabular energy E_θ(y) = θ_y. Every sample with the same answer has the same loss, so
    // the mean over the n samples is a count-weighted sum over the K answers: a custom
    // reducer (and 6 rows instead of 4000 per step on the cpu backend).
    const counts = pEmpirical.map((p) => p * n);
    const weighted = {
      name: 'weighted',
      reduce: (l: tf.Tensor) =>
        tf.tidy(() => tf.sum(tf.mul(l, tf.tensor1d(counts.map((c) => c / n)))) as tf.Scalar),
    };
    const theta = tf.variable(tf.tensor2d([[0.3, -0.2, 0.1, 0.4, 0, -0.1]]));
    const answers = [...Array(k).keys()];
    const loss = negativeLogLikelihood({ reducer: weighted });
    const perSample = negativeLogLikelihood()(tf.tile(theta, [n, 1]), samples);
    expectClose(scalarOf(loss(tf.tile(theta, [k, 1]), answers)), scalarOf(perSample), {
      atol: 1e-5,
    });
    const opt = tf.train.adam(0.1);
    for (let step = 0; step < 300; step++) {
      opt.minimize(() => loss(tf.tile(theta, [k, 1]), answers), false);
    }
    const pFit = Array.from(tf.tidy(() => tf.softmax(tf.neg(theta))).dataSync());
    expectClose(pFit, pEmpirical, { atol: 2e-3 }); // the MLE is the empirical distribution
    expectClose(pFit, pTrue, { atol: 0.03 }); // which is the truth up to sampling error
    opt.dispose();
    theta.dispose();
  });

  it('leaks no tensors', async () => {
    const e = t2(energies);
    await expectNoTensorLeak(() => negativeLogLikelihood()(e, targets));
    await expectNoTensorLeak(() =>
      tf.grad((x: tf.Tensor) => negativeLogLikelihood()(x, targets))(e),
    );
  });
});

describe('marginLosses', () => {
  const refs = {
    hinge: (c: number, o: number) => Math.max(0, 0.7 + c - o),
    log: (c: number, o: number) => softplus(c - o),
    squareSquare: (c: number, o: number) => c * c + Math.max(0, 0.7 - o) ** 2,
    squareExponential: (c: number, o: number) => c * c + 1.3 * Math.exp(-o),
  };
  const make = {
    hinge: () => marginLosses.hinge({ margin: 0.7 }),
    log: () => marginLosses.log(),
    squareSquare: () => marginLosses.squareSquare({ margin: 0.7 }),
    squareExponential: () => marginLosses.squareExponential({ gamma: 1.3 }),
  };
  const names = Object.keys(refs) as (keyof typeof refs)[];
  const direct = (name: keyof typeof refs, e: number[][], t: number[]) =>
    e.reduce((s, row, b) => s + refs[name](row[t[b]!]!, offendingRef(row, t[b]!)), 0) / e.length;

  it('equal LeCun et al. on E(correct) and the most offending incorrect energy', () => {
    for (const name of names) {
      expectClose(scalarOf(make[name]()(t2(energies), targets)), direct(name, energies, targets), {
        atol: 1e-5,
      });
    }
  });

  it('have finite-difference gradients', () => {
    for (const name of names)
      checkGradient((e) => make[name]()(e, targets), t2(energies), { eps: 1e-3 });
  });

  it('are invariant under permuting examples', () => {
    for (const name of names) {
      const permuted = make[name]()(t2(permuteRows(energies, ROWS)), permuteRows(targets, ROWS));
      expectClose(scalarOf(permuted), direct(name, energies, targets), { atol: 1e-5 });
    }
  });

  it('stay finite for large energies and tied answers', () => {
    const big = energies.map((r) => r.map((v) => 1e3 + 1e3 * v));
    for (const name of ['hinge', 'log', 'squareSquare'] as const) {
      expectFiniteWithGradient((e) => make[name]()(e, targets), t2(big));
    }
    const tied = energies.map(() => [1, 1, 1, 1]);
    for (const name of names) expectFiniteWithGradient((e) => make[name]()(e, targets), t2(tied));
    expectClose(scalarOf(make.hinge()(t2(tied), targets)), 0.7, { atol: 1e-6 });
  });

  it('need an incorrect answer', () => {
    for (const name of names) {
      expectEbmError(
        () => make[name]()(t2([[0.5]]), [0]),
        'BATCH_TOO_SMALL',
        /number of answers must be at least 2/,
      );
    }
  });

  it('leak no tensors', async () => {
    const e = t2(energies);
    for (const name of names) {
      await expectNoTensorLeak(() => make[name]()(e, targets));
      await expectNoTensorLeak(() => tf.grad((x: tf.Tensor) => make[name]()(x, targets))(e));
    }
  });
});

/** E_θ(x) = ½ Σ_i a_i x_i² + Σ_i b_i x_i with θ = [a; b] (a Gaussian energy). */
const quadratic = (theta: tf.Tensor) => (x: tf.Tensor) =>
  tf.tidy(() => {
    const [a, b] = tf.split(theta, 2);
    return tf.add(tf.mul(tf.sum(tf.mul(tf.square(x), a!), 1), 0.5), tf.sum(tf.mul(x, b!), 1));
  });
const quadraticRef = (theta: number[], x: number[]) =>
  x.reduce((s, v, i) => s + 0.5 * theta[i]! * v * v + theta[i + x.length]! * v, 0);

describe('contrastiveDivergence', () => {
  const data = randn(6, 2, 61);
  const negatives = randn(4, 2, 62, 2);
  const theta = [1.2, 0.8, 0.3, -0.5];
  const meanE = (xs: number[][]) => xs.reduce((s, x) => s + quadraticRef(theta, x), 0) / xs.length;
  const meanE2 = (xs: number[][]) =>
    xs.reduce((s, x) => s + quadraticRef(theta, x) ** 2, 0) / xs.length;

  it('equals mean E(data) − mean E(negatives) + α(mean E(data)² + mean E(negatives)²)', () => {
    const e = quadratic(tf.tensor1d(theta));
    expectClose(
      scalarOf(contrastiveDivergence()(e, t2(data), t2(negatives))),
      meanE(data) - meanE(negatives),
      { atol: 1e-5 },
    );
    const alpha = 0.1;
    const reg = contrastiveDivergence({ energyL2: alpha })(e, t2(data), t2(negatives));
    expectClose(
      scalarOf(reg),
      meanE(data) - meanE(negatives) + alpha * (meanE2(data) + meanE2(negatives)),
      { atol: 1e-5 },
    );
  });

  it('has finite-difference gradients in the energy parameters', () => {
    const cd = contrastiveDivergence({ energyL2: 0.1 });
    checkGradient((th) => cd(quadratic(th), t2(data), t2(negatives)), tf.tensor1d(theta));
  });

  it('differentiates through E only: sampled negatives are detached from the tape', () => {
    // Two losses with one seed draw the same negatives; the gradient of the one that samples
    // inside tf.variableGrads must equal the formula with those negatives held fixed.
    for (const sampler of ['langevin', 'gibbs', 'metropolisHastings'] as const) {
      const opts = { sampler, k: 5, seed: 3, samplerOptions: { stepSize: 0.1 } };
      const init = sampler === 'langevin' ? data : data.map((r) => r.map((v) => (v > 0 ? 1 : 0)));
      const th = tf.variable(tf.tensor1d(theta));
      const { grads } = tf.variableGrads(
        () => contrastiveDivergence(opts)(quadratic(th), t2(init)),
        [th],
      );
      const neg = contrastiveDivergence(opts).sample(quadratic(th), t2(init));
      const x = neg.arraySync() as number[][];
      const dA = (xs: number[][], i: number) =>
        xs.reduce((s, r) => s + 0.5 * r[i]! ** 2, 0) / xs.length;
      const dB = (xs: number[][], i: number) => xs.reduce((s, r) => s + r[i]!, 0) / xs.length;
      const expected = [0, 1]
        .map((i) => dA(init, i) - dA(x, i))
        .concat([0, 1].map((i) => dB(init, i) - dB(x, i)));
      expectClose(grads[th.name]!.dataSync(), expected, { atol: 1e-5 });
      // The chains moved: these are not the data.
      expect(
        x.flat().reduce((acc, v, i) => acc + Math.abs(v - init.flat()[i]!), 0),
      ).toBeGreaterThan(0.1);
      tf.dispose([th, neg, grads[th.name]!]);
    }
  });

  it('is invariant under permuting data rows and negative rows', () => {
    const e = quadratic(tf.tensor1d(theta));
    const cd = contrastiveDivergence({ energyL2: 0.2 });
    const base = scalarOf(cd(e, t2(data), t2(negatives)));
    expectClose(
      scalarOf(
        cd(e, t2(permuteRows(data, [5, 2, 0, 4, 1, 3])), t2(permuteRows(negatives, [2, 0, 3, 1]))),
      ),
      base,
      { atol: 1e-5 },
    );
  });

  it('runs persistent chains through a ReplayBuffer and writes them back', () => {
    const buffer = new ReplayBuffer({ capacity: 8, sampleShape: [2], reinitProb: 0, seed: 5 });
    const before = buffer.state().data;
    const cd = contrastiveDivergence({ persistent: buffer, k: 3, chains: 4, seed: 1 });
    const l = cd(quadratic(tf.tensor1d(theta)), t2(data));
    expect(Number.isFinite(scalarOf(l))).toBe(true);
    const after = buffer.state().data;
    let moved = 0;
    for (let slot = 0; slot < 8; slot++) if (after[2 * slot] !== before[2 * slot]) moved++;
    expect(moved).toBe(4);
    expectEbmError(
      () => cd(quadratic(tf.tensor1d(theta)), t2(randn(2, 3, 1))),
      'SHAPE_MISMATCH',
      /sampleShape/,
    );
    const tooMany = contrastiveDivergence({ persistent: buffer, chains: 9 });
    expectEbmError(
      () => tooMany(quadratic(tf.tensor1d(theta)), t2(data)),
      'BATCH_TOO_SMALL',
      /capacity 8/,
    );
  });

  it('fits a Gaussian energy with PCD and Langevin', () => {
    // Data ~ N(2, 0.5²); E(x) = (x − μ)² / (2σ²) with σ = exp(s). PCD's fixed point is the MLE.
    const rng = new Rng(11);
    const x = tf.tensor2d(Array.from({ length: 256 }, () => [2 + 0.5 * rng.normal()]));
    const mu = tf.variable(tf.scalar(0));
    const s = tf.variable(tf.scalar(0));
    const energy = (v: tf.Tensor) =>
      tf.div(tf.sum(tf.square(tf.sub(v, mu)), 1), tf.mul(2, tf.exp(tf.mul(2, s))));
    const buffer = new ReplayBuffer({
      capacity: 256,
      sampleShape: [1],
      init: 'normal',
      reinitProb: 0,
      seed: 2,
    });
    const cd = contrastiveDivergence({
      persistent: buffer,
      k: 10,
      samplerOptions: { stepSize: 0.02 },
      seed: 4,
    });
    const opt = tf.train.adam(0.05);
    for (let step = 0; step < 150; step++) opt.minimize(() => cd(energy, x), false, [mu, s]);
    expect(Math.abs(mu.dataSync()[0]! - 2)).toBeLessThan(0.15);
    expect(Math.abs(Math.exp(s.dataSync()[0]!) - 0.5)).toBeLessThan(0.15);
    opt.dispose();
    tf.dispose([x, mu, s]);
  });

  it('stays finite at norm 1e3 with an energy penalty', () => {
    const far = t2(randn(6, 2, 63, 1e3));
    expectFiniteWithGradient(
      (th) => contrastiveDivergence({ energyL2: 1 })(quadratic(th), far, t2(negatives)),
      tf.tensor1d(theta),
    );
  });

  it('rejects empty batches, bad samplers and mismatched negatives', () => {
    const e = quadratic(tf.tensor1d(theta));
    expectEbmError(
      () => contrastiveDivergence()(e, tf.zeros([0, 2])),
      'BATCH_TOO_SMALL',
      /batch size must be at least 1/,
    );
    expectEbmError(
      () => contrastiveDivergence({ sampler: 'hmc' as never }),
      'INVALID_ARGUMENT',
      /sampler/,
    );
    expectEbmError(
      () => contrastiveDivergence()(e, t2(data), t2(randn(3, 3, 1))),
      'SHAPE_MISMATCH',
      /row shape/,
    );
    expectEbmError(
      () => contrastiveDivergence()((v) => tf.sum(v), t2(data), t2(negatives)),
      'SHAPE_MISMATCH',
      /one float32 energy per state/,
    );
  });

  it('leaks no tensors, sampling inside a gradient', async () => {
    const th = tf.variable(tf.tensor1d(theta));
    const cd = contrastiveDivergence({ k: 3, seed: 9 });
    const pcd = contrastiveDivergence({
      k: 3,
      persistent: new ReplayBuffer({ capacity: 10, sampleShape: [2], seed: 1 }),
    });
    const x = t2(data);
    await expectNoTensorLeak(() => tf.variableGrads(() => cd(quadratic(th), x), [th]));
    await expectNoTensorLeak(() => tf.variableGrads(() => pcd(quadratic(th), x), [th]));
    await expectNoTensorLeak(() => cd(quadratic(th), x));
  });
});

describe('nce', () => {
  const data = randn(6, 2, 71);
  const noiseX = randn(9, 2, 72, 1.5);
  const theta = [1.2, 0.8, 0.3, -0.5];
  const noise = noiseDistributions.gaussian({ dim: 2, mean: [0.1, -0.2], std: [1.5, 1.2] });
  const logPn = (x: number[]) =>
    x.reduce((s, v, i) => {
      const [m, sd] = [[0.1, -0.2][i]!, [1.5, 1.2][i]!];
      return s - 0.5 * ((v - m) / sd) ** 2 - Math.log(sd * Math.sqrt(2 * Math.PI));
    }, 0);
  const ref = (c: number) => {
    const nu = noiseX.length / data.length;
    const g = (x: number[]) => -quadraticRef(theta, x) - c - logPn(x) - Math.log(nu);
    const onData = data.reduce((s, x) => s - Math.log(1 / (1 + Math.exp(-g(x)))), 0) / data.length;
    const onNoise =
      noiseX.reduce((s, y) => s - Math.log(1 - 1 / (1 + Math.exp(-g(y)))), 0) / noiseX.length;
    return onData + nu * onNoise;
  };

  it('equals the Gutmann–Hyvärinen objective computed directly', () => {
    const l = nce({ noise, logZ: 0.4 });
    expectClose(scalarOf(l(quadratic(tf.tensor1d(theta)), t2(data), t2(noiseX))), ref(0.4), {
      atol: 1e-5,
    });
    l.dispose();
  });

  it('scores noise like the density formulas', () => {
    expectClose(noise.logProb(t2(noiseX)).dataSync(), noiseX.map(logPn), { atol: 1e-5 });
    const bern = noiseDistributions.bernoulli({ dim: 3, p: [0.2, 0.5, 0.9] });
    const bits = [
      [1, 0, 1],
      [0, 0, 0],
    ];
    const expected = bits.map((b) =>
      b.reduce((s, v, i) => s + Math.log(v ? [0.2, 0.5, 0.9][i]! : 1 - [0.2, 0.5, 0.9][i]!), 0),
    );
    expectClose(bern.logProb(t2(bits)).dataSync(), expected, { atol: 1e-5 });
    const draws = noise.sample(4000, 3);
    expectClose(tf.mean(draws, 0).dataSync(), [0.1, -0.2], { atol: 0.08 });
    draws.dispose();
  });

  it('has finite-difference gradients in θ and in log Z', () => {
    const logZ = tf.variable(tf.scalar(0.4));
    const l = nce({ noise, logZ });
    checkGradient((th) => l(quadratic(th), t2(data), t2(noiseX)), tf.tensor1d(theta));
    const { grads } = tf.variableGrads(
      () => l(quadratic(tf.tensor1d(theta)), t2(data), t2(noiseX)),
      [logZ],
    );
    const h = 1e-4;
    expectClose(grads[logZ.name]!.dataSync()[0]!, (ref(0.4 + h) - ref(0.4 - h)) / (2 * h), {
      atol: 1e-4,
    });
    tf.dispose([logZ, grads[logZ.name]!]);
  });

  it('is invariant under permuting data rows and noise rows', () => {
    const l = nce({ noise, logZ: 0.4 });
    const e = quadratic(tf.tensor1d(theta));
    const p = l(
      e,
      t2(permuteRows(data, [3, 5, 1, 0, 4, 2])),
      t2(permuteRows(noiseX, [8, 7, 6, 5, 4, 3, 2, 1, 0])),
    );
    expectClose(scalarOf(p), ref(0.4), { atol: 1e-5 });
    l.dispose();
  });

  it('fits a Gaussian and learns its log-partition function', () => {
    // Data ~ N(1, 0.7²). Energy (x − μ)²/(2σ²): at the optimum μ = 1, σ = 0.7 and
    // c = log(σ√(2π)), the normaliser that NCE learns instead of computing.
    const rng = new Rng(21);
    const n = 1000;
    const x = tf.tensor2d(Array.from({ length: n }, () => [1 + 0.7 * rng.normal()]));
    const wide = noiseDistributions.gaussian({ dim: 1, mean: 1, std: 1.5 });
    const y = wide.sample(2 * n, 5);
    const mu = tf.variable(tf.scalar(0));
    const s = tf.variable(tf.scalar(0));
    const energy = (v: tf.Tensor) =>
      tf.div(tf.sum(tf.square(tf.sub(v, mu)), 1), tf.mul(2, tf.exp(tf.mul(2, s))));
    const l = nce({ noise: wide });
    const opt = tf.train.adam(0.1);
    for (let step = 0; step < 150; step++)
      opt.minimize(() => l(energy, x, y), false, [mu, s, l.logZ]);
    const sigma = Math.exp(s.dataSync()[0]!);
    expect(Math.abs(mu.dataSync()[0]! - 1)).toBeLessThan(0.08);
    expect(Math.abs(sigma - 0.7)).toBeLessThan(0.08);
    expect(Math.abs(l.logZ.dataSync()[0]! - Math.log(sigma * Math.sqrt(2 * Math.PI)))).toBeLessThan(
      0.08,
    );
    opt.dispose();
    l.dispose();
    tf.dispose([x, y, mu, s]);
  });

  it('stays finite for data of norm 1e3', () => {
    const l = nce({ noise });
    expectFiniteWithGradient(
      (th) => l(quadratic(th), t2(randn(6, 2, 73, 1e3)), t2(noiseX)),
      tf.tensor1d(theta),
    );
    l.dispose();
  });

  it('rejects a missing noise distribution and empty batches', () => {
    expectEbmError(() => nce({} as never), 'INVALID_ARGUMENT', /noise distribution/);
    const l = nce({ noise });
    expectEbmError(
      () => l(quadratic(tf.tensor1d(theta)), tf.zeros([0, 2])),
      'BATCH_TOO_SMALL',
      /at least 1/,
    );
    expectEbmError(
      () => l(quadratic(tf.tensor1d(theta)), t2(data), t2(randn(3, 3, 1))),
      'SHAPE_MISMATCH',
      /row shape/,
    );
    l.dispose();
  });

  it('leaks no tensors, drawing noise inside a gradient', async () => {
    const l = nce({ noise, noiseRatio: 2, seed: 1 });
    const th = tf.variable(tf.tensor1d(theta));
    const x = t2(data);
    await expectNoTensorLeak(() => tf.variableGrads(() => l(quadratic(th), x), [th, l.logZ]));
    await expectNoTensorLeak(() => l(quadratic(th), x));
    l.dispose();
  });
});

describe('untaped and stopGradient', () => {
  it('keep what they compute out of an enclosing gradient, and leave the tape intact', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const g = tf.grad((v: tf.Tensor) => {
      const frozen = untaped(() => tf.mul(v, 10)); // constant to the outer gradient
      // Inner gradients still work while the tape is paused.
      const inner = untaped(() => tf.grad((u: tf.Tensor) => tf.sum(tf.square(u)))(v));
      return tf.sum(tf.add(tf.mul(v, frozen), tf.mul(stopGradient(tf.square(v)), inner)));
    })(x);
    // d/dv Σ v · (10 v)_const + const = 10 v.
    expectClose(g.dataSync(), [10, 20, 30], { atol: 1e-5 });
    const stopped = tf.grad((v: tf.Tensor) => tf.sum(tf.add(v, stopGradient(tf.mul(v, 5)))))(x);
    expectClose(stopped.dataSync(), [1, 1, 1], { atol: 1e-6 });
    expectClose(stopGradient(x).dataSync(), [1, 2, 3]);
    // Outside a gradient, untaped just runs.
    expect(untaped(() => 42)).toBe(42);
  });
});
