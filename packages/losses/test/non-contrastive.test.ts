/**
 * vicReg, barlowTwins, negativeCosine and ntXent's decoupled option against float64 loops written
 * from the papers' formulas (and the authors' released code where it fixes a normalisation).
 */
import { ops } from '@ebmjs/core';
import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { barlowTwins, negativeCosine, ntXent, vicReg } from '../src/index.js';
import {
  cosv,
  expectEbmError,
  expectFiniteWithGradient,
  lse,
  type Mat,
  ntXentRef,
  randn,
  scalarOf,
  t2,
} from './reference.js';

useCpuBackend();

const colMean = (z: Mat, j: number) => z.reduce((s, r) => s + r[j]!, 0) / z.length;

/** Bardes et al. 2022 as main_vicreg.py computes it, term by term. */
function vicRegRef(
  z1: Mat,
  z2: Mat,
  w = { invariance: 25, variance: 25, covariance: 1, gamma: 1, epsilon: 1e-4 },
): number {
  const n = z1.length;
  const d = z1[0]!.length;
  let mse = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mse += (z1[i]![j]! - z2[i]![j]!) ** 2;
  mse /= n * d;
  const terms = (z: Mat) => {
    const mu = Array.from({ length: d }, (_, j) => colMean(z, j));
    const cov = (a: number, b: number) =>
      z.reduce((s, r) => s + (r[a]! - mu[a]!) * (r[b]! - mu[b]!), 0) / (n - 1);
    let v = 0;
    let c = 0;
    for (let j = 0; j < d; j++) {
      v += Math.max(0, w.gamma - Math.sqrt(cov(j, j) + w.epsilon));
      for (let k = 0; k < d; k++) if (k !== j) c += cov(j, k) ** 2;
    }
    return { v: v / d, c: c / d };
  };
  const a = terms(z1);
  const b = terms(z2);
  return w.invariance * mse + (w.variance * (a.v + b.v)) / 2 + w.covariance * (a.c + b.c);
}

/** Zbontar et al. 2021: C = ẑ1ᵀẑ2 / N of batch-standardised views (biased variance + ε). */
function barlowRef(z1: Mat, z2: Mat, lambda = 5e-3, epsilon = 1e-5): number {
  const n = z1.length;
  const d = z1[0]!.length;
  const standardise = (z: Mat) => {
    const mu = Array.from({ length: d }, (_, j) => colMean(z, j));
    const sd = mu.map((m, j) =>
      Math.sqrt(z.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / n + epsilon),
    );
    return z.map((r) => r.map((v, j) => (v - mu[j]!) / sd[j]!));
  };
  const a = standardise(z1);
  const b = standardise(z2);
  let loss = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let k = 0; k < n; k++) c += a[k]![i]! * b[k]![j]!;
      c /= n;
      loss += i === j ? (1 - c) ** 2 : lambda * c * c;
    }
  }
  return loss;
}

/** Yeh et al. 2022: NT-Xent with the positive removed from the denominator. */
function dclRef(z1: Mat, z2: Mat, tau: number): number {
  const z = [...z1, ...z2];
  const n = z1.length;
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const p = (i + n) % (2 * n);
    const logits: number[] = [];
    for (let k = 0; k < 2 * n; k++) if (k !== i && k !== p) logits.push(cosv(z[i]!, z[k]!) / tau);
    total += lse(logits) - cosv(z[i]!, z[p]!) / tau;
  }
  return total / (2 * n);
}

const z1 = randn(12, 6, 11, 0.8);
const z2 = z1.map((r, i) => r.map((v, j) => v + 0.4 * randn(12, 6, 12)[i]![j]!));
/** Rows ±2 in every sign pattern: centred, std > 1, uncorrelated columns. */
const square = [
  [2, 2],
  [2, -2],
  [-2, 2],
  [-2, -2],
];

describe('vicReg', () => {
  it('equals the published formula, term by term and with the default weights', () => {
    const base = { invariance: 25, variance: 25, covariance: 1, gamma: 1, epsilon: 1e-4 };
    expectClose(scalarOf(vicReg()(t2(z1), t2(z2))), vicRegRef(z1, z2), { atol: 1e-5, rtol: 1e-6 });
    for (const only of [
      { invariance: 1, variance: 0, covariance: 0 },
      { invariance: 0, variance: 1, covariance: 0 },
      { invariance: 0, variance: 0, covariance: 1 },
      { invariance: 3, variance: 7, covariance: 2, gamma: 1.5, epsilon: 1e-3 },
    ]) {
      const w = { ...base, ...only };
      expectClose(scalarOf(vicReg(w)(t2(z1), t2(z2))), vicRegRef(z1, z2, w), { atol: 1e-5 });
    }
  });

  it('is 0 for equal, spread, uncorrelated views and 25·(1 − √ε) for a collapsed batch', () => {
    expectClose(scalarOf(vicReg()(t2(square), t2(square))), 0, { atol: 1e-7 });
    const collapsed = Array.from({ length: 6 }, () => [0.5, -1, 2]);
    // Invariance and covariance vanish; each branch's variance term is 1 − √1e-4, averaged.
    expectClose(scalarOf(vicReg()(t2(collapsed), t2(collapsed))), 25 * 0.99, { atol: 1e-5 });
  });

  it('has finite-difference gradients', () => {
    checkGradient((x) => vicReg()(x, t2(z2)), t2(z1), { eps: 1e-3, atol: 5e-3 });
    checkGradient((x) => vicReg({ invariance: 1 })(t2(z1), x), t2(z2), { eps: 1e-3, atol: 5e-3 });
  });

  it('frees its tensors and rejects bad input', async () => {
    const [a, b] = [t2(z1), t2(z2)];
    await expectNoTensorLeak(() => vicReg()(a, b));
    expectEbmError(() => vicReg()(t2([[1, 2]]), t2([[1, 2]])), 'BATCH_TOO_SMALL', /at least 2/);
    expectEbmError(() => vicReg()(t2(z1), t2(randn(12, 5, 1))), 'SHAPE_MISMATCH', /z2/);
    expectEbmError(() => vicReg({ epsilon: 0 }), 'INVALID_ARGUMENT', /epsilon/);
  });
});

describe('barlowTwins', () => {
  it('equals the published formula (λ = 5e-3 and others)', () => {
    expectClose(scalarOf(barlowTwins()(t2(z1), t2(z2))), barlowRef(z1, z2), { atol: 1e-5 });
    expectClose(
      scalarOf(barlowTwins({ lambda: 0.1, epsilon: 1e-3 })(t2(z1), t2(z2))),
      barlowRef(z1, z2, 0.1, 1e-3),
      { atol: 1e-5 },
    );
  });

  it('standardises with the biased variance: identical orthogonal views give C = I and 0', () => {
    // With the unbiased variance C_ii would be 3/4 here and the loss 2 · (1/4)² = 0.125.
    expectClose(scalarOf(barlowTwins()(t2(square), t2(square))), 0, { atol: 1e-7 });
    // Swapped columns: C is the exchange matrix, on-diagonal 2, off-diagonal λ · 2.
    const swapped = square.map(([a, b]) => [b!, a!]);
    expectClose(scalarOf(barlowTwins()(t2(square), t2(swapped))), 2 + 5e-3 * 2, { atol: 1e-5 });
  });

  it('has finite-difference gradients', () => {
    checkGradient((x) => barlowTwins({ lambda: 0.05 })(x, t2(z2)), t2(z1), { eps: 1e-3 });
  });

  it('frees its tensors and rejects bad input', async () => {
    const [a, b] = [t2(z1), t2(z2)];
    await expectNoTensorLeak(() => barlowTwins()(a, b));
    expectEbmError(
      () => barlowTwins()(t2([[1, 2]]), t2([[1, 2]])),
      'BATCH_TOO_SMALL',
      /at least 2/,
    );
    expectEbmError(() => barlowTwins({ lambda: -1 }), 'INVALID_ARGUMENT', /lambda/);
  });
});

describe('negativeCosine', () => {
  const p = randn(5, 4, 21);
  const z = randn(5, 4, 22);
  const ref = (a: Mat, b: Mat) => -a.reduce((s, r, i) => s + cosv(r, b[i]!), 0) / a.length;

  it('equals −mean cos(p, z); −1 for aligned and +1 for opposite rows', () => {
    expectClose(scalarOf(negativeCosine()(t2(p), t2(z))), ref(p, z), { atol: 1e-6 });
    const scaled = p.map((r) => r.map((v) => 3 * v));
    expectClose(scalarOf(negativeCosine()(t2(p), t2(scaled))), -1, { atol: 1e-6 });
    const opposite = p.map((r) => r.map((v) => -v));
    expectClose(scalarOf(negativeCosine()(t2(p), t2(opposite))), 1, { atol: 1e-6 });
  });

  it('stops the gradient at the target: zero for z, finite differences for p', () => {
    const [gp, gz] = tf.grads((a: tf.Tensor, b: tf.Tensor) => negativeCosine()(a, b))([
      t2(p),
      t2(z),
    ]);
    expect(Array.from(gz!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(gp!.dataSync()).some((v) => Math.abs(v) > 1e-3)).toBe(true);
    // Without the stop-gradient the same formula does send a gradient to z.
    const plain = tf.grad((b: tf.Tensor) =>
      tf.neg(tf.mean(ops.pairedCosine(t2(p), b as tf.Tensor2D))),
    )(t2(z));
    expect(Array.from(plain.dataSync()).some((v) => Math.abs(v) > 1e-3)).toBe(true);
    checkGradient((x) => negativeCosine()(x, t2(z)), t2(p), { eps: 1e-3 });
  });

  it('symmetrised, ½ D(p1, z2) + ½ D(p2, z1), moves only the predictions', () => {
    const [p1, p2, za, zb] = [randn(4, 3, 1), randn(4, 3, 2), randn(4, 3, 3), randn(4, 3, 4)];
    const loss = negativeCosine();
    const sym = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      tf.mul(tf.add(loss(a, d), loss(b, c)), 0.5) as tf.Scalar;
    const v = scalarOf(sym(t2(p1), t2(p2), t2(za), t2(zb)));
    expectClose(v, (ref(p1, zb) + ref(p2, za)) / 2, { atol: 1e-6 });
    const g = tf.grads(sym)([t2(p1), t2(p2), t2(za), t2(zb)]);
    expect(g.slice(2).every((t) => Array.from(t.dataSync()).every((x) => x === 0))).toBe(true);
  });

  it('frees its tensors and rejects bad input', async () => {
    const [a, b] = [t2(p), t2(z)];
    await expectNoTensorLeak(() => negativeCosine()(a, b));
    expectEbmError(() => negativeCosine({ tau: 1 } as never), 'INVALID_ARGUMENT', /unknown option/);
    expectEbmError(() => negativeCosine()(t2(p), t2(randn(4, 4, 1))), 'SHAPE_MISMATCH', /z/);
  });
});

describe('ntXent decoupled (DCL)', () => {
  it('equals NT-Xent without the positive in the denominator', () => {
    for (const tau of [0.1, 0.5]) {
      expectClose(
        scalarOf(ntXent({ temperature: tau, decoupled: true })(t2(z1), t2(z2))),
        dclRef(z1, z2, tau),
        { atol: 1e-5 },
      );
    }
  });

  it('is off by default, and off gives exactly the SimCLR loss', () => {
    const off = scalarOf(ntXent({ decoupled: false })(t2(z1), t2(z2)));
    expect(off).toBe(scalarOf(ntXent()(t2(z1), t2(z2))));
    expectClose(off, ntXentRef(z1, z2, 0.5), { atol: 1e-5 });
    expect(Math.abs(scalarOf(ntXent({ decoupled: true })(t2(z1), t2(z2))) - off)).toBeGreaterThan(
      0.05,
    );
  });

  it('has finite-difference gradients and stays finite at τ = 0.01', () => {
    checkGradient((x) => ntXent({ temperature: 0.5, decoupled: true })(x, t2(z2)), t2(z1));
    expectFiniteWithGradient(
      (x) => ntXent({ temperature: 0.01, decoupled: true })(x, t2(z2)),
      t2(z1),
    );
    expectEbmError(() => ntXent({ decoupled: 1 as never }), 'INVALID_ARGUMENT', /boolean/);
  });
});
