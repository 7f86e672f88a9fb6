import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/** The square [lo, hi]² on which 2-D energies are normalised. */
export interface Box {
  lo: number;
  hi: number;
}

/** The lab's box: every toy dataset lies inside it up to a negligible tail. */
export const LAB_BOX: Box = { lo: -4.5, hi: 4.5 };

/** Cell centres of an n × n grid over a box (the midpoint rule), row-major with y outer. */
export interface Grid {
  box: Box;
  /** Cells per side. */
  n: number;
  /** Cell side h. */
  h: number;
  /** log h², added to a log-sum-exp over cells to give log ∫. */
  logCellArea: number;
  /** [n², 2] cell centres; point k = (x_i, y_j) with k = j·n + i, y increasing with j. */
  points: Float32Array;
}

export function makeGrid(box: Box, n: number): Grid {
  validate.assertNumber(n, 'makeGrid: n', { min: 2, integer: true });
  if (!(Number.isFinite(box?.lo) && Number.isFinite(box.hi) && box.lo < box.hi)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `makeGrid: box must be { lo, hi } with lo < hi, received ${JSON.stringify(box)}.`,
    );
  }
  const h = (box.hi - box.lo) / n;
  const points = new Float32Array(2 * n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const k = j * n + i;
      points[2 * k] = box.lo + (i + 0.5) * h;
      points[2 * k + 1] = box.lo + (j + 0.5) * h;
    }
  }
  return { box, n, h, logCellArea: 2 * Math.log(h), points };
}

/** An energy over rows of a [m, 2] tensor → [m] (a net), or a plain function of (x, y). */
export type EnergyFn2d = (y: tf.Tensor) => tf.Tensor;

const CHUNK = 8192;

/** E at every row of a row-major [m, 2] array, in chunks so big grids fit in memory. */
export function energiesAt(energy: EnergyFn2d, points: Float32Array): Float32Array {
  const m = points.length / 2;
  const out = new Float32Array(m);
  for (let start = 0; start < m; start += CHUNK) {
    const end = Math.min(m, start + CHUNK);
    const values = tf.tidy(() =>
      energy(tf.tensor2d(points.subarray(2 * start, 2 * end), [end - start, 2])).dataSync(),
    );
    out.set(values, start);
  }
  return out;
}

/** E = −log p at every row, for a density known in JS (true density, Gaussian baseline). */
export function energiesFromLogDensity(
  logDensity: (x: number, y: number) => number,
  points: Float32Array,
): Float32Array {
  const m = points.length / 2;
  const out = new Float32Array(m);
  // Zero density becomes a large finite energy, so log-sum-exps stay finite.
  for (let k = 0; k < m; k++)
    out[k] = Math.min(1e4, -logDensity(points[2 * k]!, points[2 * k + 1]!));
  return out;
}

/** log Σ_k exp(−E_k) + log h²: the log-partition of exp(−E) on the box by the midpoint rule. */
export function logPartition(gridEnergies: Float32Array, logCellArea: number): number {
  let min = Number.POSITIVE_INFINITY;
  for (const e of gridEnergies) if (e < min) min = e;
  if (!Number.isFinite(min)) {
    throw new EbmError('NON_FINITE', 'logPartition: the energy is not finite on the grid.');
  }
  let s = 0;
  for (const e of gridEnergies) s += Math.exp(min - e);
  return -min + Math.log(s) + logCellArea;
}

export interface GridEvaluation {
  /** Mean of E(x) + log Z over the test points, in nats. */
  nll: number;
  logZ: number;
  /** E on the grid's cell centres, for pictures. */
  gridEnergies: Float32Array;
}

/**
 * Exact evaluation in 2-D: normalise exp(−E) on the grid and return the test NLL
 * −mean log p(x) = mean E(x) + log Z. `testEnergies` are E at the test points.
 */
export function gridNll(
  gridEnergies: Float32Array,
  testEnergies: Float32Array,
  grid: Grid,
): GridEvaluation {
  const logZ = logPartition(gridEnergies, grid.logCellArea);
  let sum = 0;
  for (const e of testEnergies) sum += e;
  const nll = sum / testEnergies.length + logZ;
  if (!Number.isFinite(nll)) {
    throw new EbmError('NON_FINITE', `gridNll: the test NLL is ${nll}.`);
  }
  return { nll, logZ, gridEnergies };
}

/** gridNll for an energy function (a net): evaluates it on the grid and on the test points. */
export function evaluateEnergy(energy: EnergyFn2d, grid: Grid, test: Float32Array): GridEvaluation {
  return gridNll(energiesAt(energy, grid.points), energiesAt(energy, test), grid);
}

/** gridNll for a density known in JS. */
export function evaluateLogDensity(
  logDensity: (x: number, y: number) => number,
  grid: Grid,
  test: Float32Array,
): GridEvaluation {
  return gridNll(
    energiesFromLogDensity(logDensity, grid.points),
    energiesFromLogDensity(logDensity, test),
    grid,
  );
}
