/**
 * Independent plain-JS (float64) computations the tests compare the losses with: direct loops
 * over arrays, written from the papers' formulas, sharing no code with src/.
 */
import { EbmError, Rng } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export type Vec = number[];
export type Mat = number[][];

export function randn(rows: number, cols: number, seed: number, scale = 1): Mat {
  const rng = new Rng(seed);
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => scale * rng.normal()),
  );
}

export const t2 = (m: Mat) => tf.tensor2d(m);
export const dotv = (a: Vec, b: Vec) => a.reduce((s, v, i) => s + v * b[i]!, 0);
export const normv = (a: Vec) => Math.sqrt(dotv(a, a));
export const cosv = (a: Vec, b: Vec) => dotv(a, b) / (normv(a) * normv(b));
export const unit = (a: Vec) => a.map((v) => v / normv(a));
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
export const softplus = (x: number) =>
  x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));

export function lse(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

export function lpDist(a: Vec, b: Vec, p = 2, normalize = true): number {
  const x = normalize ? unit(a) : a;
  const y = normalize ? unit(b) : b;
  return x.reduce((s, v, i) => s + Math.abs(v - y[i]!) ** p, 0) ** (1 / p);
}

/** Rescales every row to norm `norm`. */
export function withNorm(m: Mat, norm: number): Mat {
  return m.map((r) => r.map((v) => (v * norm) / normv(r)));
}

export function permuteRows<T>(rows: readonly T[], perm: readonly number[]): T[] {
  return perm.map((i) => rows[i]!);
}

export function scalarOf(t: tf.Tensor): number {
  expect(t.shape, 'a loss is a scalar').toEqual([]);
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}

/** Asserts a loss value and its gradient with respect to `x` are finite. */
export function expectFiniteWithGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor): void {
  const { value, grad } = tf.valueAndGrad(f)(x);
  const v = value.dataSync()[0]!;
  const g = Array.from(grad.dataSync());
  value.dispose();
  grad.dispose();
  expect(Number.isFinite(v), `loss ${v} is finite`).toBe(true);
  expect(g.every(Number.isFinite), 'gradient is finite').toBe(true);
}

export function expectEbmError(fn: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'throws').toBeInstanceOf(EbmError);
  expect((caught as EbmError).code).toBe(code);
  expect((caught as EbmError).message).toMatch(message);
}

/** A regular simplex: N unit vectors in R^N with pairwise cosine −1/(N − 1). */
export function simplex(n: number): Mat {
  return Array.from({ length: n }, (_, i) =>
    unit(Array.from({ length: n }, (_, j) => (i === j ? 1 : 0) - 1 / n)),
  );
}

// ---------- self-supervised ----------

export function ntXentRef(z1: Mat, z2: Mat, tau: number, sim = cosv): number {
  const z = [...z1, ...z2];
  const n = z1.length;
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const logits: number[] = [];
    for (let k = 0; k < 2 * n; k++) if (k !== i) logits.push(sim(z[i]!, z[k]!) / tau);
    total += lse(logits) - sim(z[i]!, z[(i + n) % (2 * n)]!) / tau;
  }
  return total / (2 * n);
}

/** negatives: shared [M][d] or per query [N][M][d]. */
export function infoNceRef(
  q: Mat,
  k: Mat,
  negatives: Mat | Mat[] | undefined,
  tau: number,
  inBatch: boolean,
  sim = cosv,
): number {
  let total = 0;
  for (let i = 0; i < q.length; i++) {
    const pos = sim(q[i]!, k[i]!) / tau;
    const logits = [pos];
    if (inBatch)
      for (let j = 0; j < k.length; j++) if (j !== i) logits.push(sim(q[i]!, k[j]!) / tau);
    const list =
      negatives === undefined
        ? []
        : Array.isArray(negatives[0]![0])
          ? (negatives as Mat[])[i]!
          : (negatives as Mat);
    for (const neg of list) logits.push(sim(q[i]!, neg) / tau);
    total += lse(logits) - pos;
  }
  return total / q.length;
}

/**
 * One PIRL NCE term, literally: 'infonce' with the lecture's h; 'nce' as VISSL's NCEAverage +
 * NCECriterion: out = exp(s/τ), Z = mean(out)·N (or exp(logZ)), P = out/Z, Pn = 1/N,
 * loss = −log(P⁺/(P⁺ + K·Pn)) − Σ log(K·Pn/(P⁻ + K·Pn)). Returns per-anchor losses.
 */
export function pirlTermRef(
  anchor: Mat,
  positive: Mat,
  negatives: Mat,
  tau: number,
  mode: 'nce' | 'infonce',
  fixed?: { logZ: number; datasetSize: number },
): number[] {
  const k = negatives.length;
  const lpos = anchor.map((a, i) => cosv(a, positive[i]!) / tau);
  const lneg = anchor.map((a) => negatives.map((n) => cosv(a, n) / tau));
  if (mode === 'infonce') {
    return anchor.map((_, i) => {
      const s = lneg[i]!.reduce((acc, l) => acc + Math.exp(l), 0);
      let loss = -Math.log(Math.exp(lpos[i]!) / (Math.exp(lpos[i]!) + s));
      for (const l of lneg[i]!) loss -= Math.log(1 - Math.exp(l) / (Math.exp(l) + s));
      return loss;
    });
  }
  const datasetSize = fixed?.datasetSize ?? 1000; // cancels when Z is estimated
  let z: number;
  if (fixed) z = Math.exp(fixed.logZ);
  else {
    const all = [...lpos, ...lneg.flat()].map(Math.exp);
    z = (all.reduce((a, b) => a + b, 0) / all.length) * datasetSize;
  }
  const kPn = k / datasetSize;
  return anchor.map((_, i) => {
    const pPos = Math.exp(lpos[i]!) / z;
    let loss = -Math.log(pPos / (pPos + kPn));
    for (const l of lneg[i]!) loss -= Math.log(kPn / (Math.exp(l) / z + kPn));
    return loss;
  });
}

// ---------- metric learning ----------

export function supConRef(z: Mat, labels: number[], tau: number): number {
  let total = 0;
  let anchors = 0;
  for (let i = 0; i < z.length; i++) {
    const others: number[] = [];
    for (let a = 0; a < z.length; a++) if (a !== i) others.push(cosv(z[i]!, z[a]!) / tau);
    const logDen = lse(others);
    let sum = 0;
    let count = 0;
    for (let p = 0; p < z.length; p++) {
      if (p === i || labels[p] !== labels[i]) continue;
      sum += cosv(z[i]!, z[p]!) / tau - logDen;
      count++;
    }
    if (count > 0) {
      total += -sum / count;
      anchors++;
    }
  }
  return anchors === 0 ? 0 : total / anchors;
}

export function meanNonZeroRef(losses: number[]): number {
  const nz = losses.filter((l) => l > 0);
  return nz.length === 0 ? 0 : nz.reduce((a, b) => a + b, 0) / nz.length;
}

export function meanRef(losses: number[]): number {
  return losses.length === 0 ? 0 : losses.reduce((a, b) => a + b, 0) / losses.length;
}

export function pairContrastiveRef(
  z: Mat,
  labels: number[],
  margin: number,
  dist = (a: Vec, b: Vec) => lpDist(a, b),
): number[] {
  const out: number[] = [];
  for (let i = 0; i < z.length; i++) {
    for (let j = i + 1; j < z.length; j++) {
      const d = dist(z[i]!, z[j]!);
      out.push(labels[i] === labels[j] ? 0.5 * d * d : 0.5 * Math.max(0, margin - d) ** 2);
    }
  }
  return out;
}

export function tripletRef(
  z: Mat,
  labels: number[],
  margin: number,
  mining: 'all' | 'hard' | 'semihard',
  dist = (a: Vec, b: Vec) => lpDist(a, b),
): number[] {
  const n = z.length;
  const d = z.map((a) => z.map((b) => dist(a, b)));
  const out: number[] = [];
  for (let a = 0; a < n; a++) {
    const pos = [...Array(n).keys()].filter((p) => p !== a && labels[p] === labels[a]);
    const neg = [...Array(n).keys()].filter((m) => labels[m] !== labels[a]);
    if (mining === 'all') {
      for (const p of pos)
        for (const m of neg) out.push(Math.max(0, d[a]![p]! - d[a]![m]! + margin));
    } else if (mining === 'hard') {
      if (pos.length === 0 || neg.length === 0) continue;
      const hp = Math.max(...pos.map((p) => d[a]![p]!));
      const hn = Math.min(...neg.map((m) => d[a]![m]!));
      out.push(Math.max(0, hp - hn + margin));
    } else {
      if (neg.length === 0) continue;
      for (const p of pos) {
        const outside = neg.map((m) => d[a]![m]!).filter((v) => v > d[a]![p]!);
        const chosen =
          outside.length > 0 ? Math.min(...outside) : Math.max(...neg.map((m) => d[a]![m]!));
        out.push(Math.max(0, d[a]![p]! - chosen + margin));
      }
    }
  }
  return out;
}

// ---------- energy-based ----------

export function nllRef(energies: Mat, targets: number[], beta: number): number {
  let total = 0;
  energies.forEach((row, b) => {
    const z = row.reduce((s, e) => s + Math.exp(-beta * e), 0);
    total += row[targets[b]!]! + Math.log(z) / beta;
  });
  return total / energies.length;
}

export function offendingRef(row: Vec, target: number): number {
  let best = Number.POSITIVE_INFINITY;
  row.forEach((e, y) => {
    if (y !== target && e < best) best = e;
  });
  return best;
}

/** Ising energy over bits x ∈ {0,1}^d with spins s = 2x − 1: E = −Σ_{i<j} J_ij s_i s_j − Σ h_i s_i. */
export function isingEnergyRef(x: Vec, J: Mat, h: Vec): number {
  const s = x.map((v) => 2 * v - 1);
  let e = 0;
  for (let i = 0; i < s.length; i++) {
    e -= h[i]! * s[i]!;
    for (let j = i + 1; j < s.length; j++) e -= J[i]![j]! * s[i]! * s[j]!;
  }
  return e;
}

export function flip(x: Vec, j: number): Vec {
  return x.map((v, i) => (i === j ? 1 - v : v));
}

export function allStates(d: number): Mat {
  return Array.from({ length: 2 ** d }, (_, k) =>
    Array.from({ length: d }, (_, i) => (k >> i) & 1),
  );
}
