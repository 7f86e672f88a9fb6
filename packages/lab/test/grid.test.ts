import { expectClose, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  energiesAt,
  evaluateEnergy,
  evaluateLogDensity,
  fitGaussian,
  fitTemperature,
  logPartition,
  makeGrid,
} from '../src/index.js';

useCpuBackend();

describe('grid normalisation', () => {
  it('lays cell centres row by row with y increasing', () => {
    const g = makeGrid({ lo: 0, hi: 4 }, 4);
    expect(g.h).toBe(1);
    expect(Array.from(g.points.slice(0, 4))).toEqual([0.5, 0.5, 1.5, 0.5]);
    expect(Array.from(g.points.slice(8, 10))).toEqual([0.5, 1.5]);
    expect(g.logCellArea).toBe(0);
  });

  it('gives log Z of a standard Gaussian energy: log 2π', () => {
    const grid = makeGrid({ lo: -8, hi: 8 }, 200);
    const energy = (y: tf.Tensor) => tf.tidy(() => tf.mul(tf.sum(tf.square(y), 1), 0.5));
    const e = energiesAt(energy, grid.points);
    expectClose(logPartition(e, grid.logCellArea), Math.log(2 * Math.PI), { atol: 1e-5 });
    // Adding a constant to E moves log Z by minus that constant.
    const shifted = e.map((v) => v + 100);
    expectClose(logPartition(shifted, grid.logCellArea), Math.log(2 * Math.PI) - 100, {
      atol: 1e-4,
    });
  });

  it('scores a net and a JS density the same way', () => {
    const grid = makeGrid({ lo: -6, hi: 6 }, 120);
    const test = new Float32Array([0, 0, 1, 0, 0, 2]);
    const byNet = evaluateEnergy(
      (y) => tf.tidy(() => tf.mul(tf.sum(tf.square(y), 1), 0.5)),
      grid,
      test,
    );
    const byJs = evaluateLogDensity((x, y) => -0.5 * (x * x + y * y), grid, test);
    // NLL = mean(|x|²/2) + log 2π.
    const expected = (0 + 0.5 + 2) / 3 + Math.log(2 * Math.PI);
    expectClose(byNet.nll, expected, { atol: 1e-4 });
    expectClose(byJs.nll, expected, { atol: 1e-4 });
    expect(byNet.gridEnergies.length).toBe(120 * 120);
  });

  it('fits a Gaussian by maximum likelihood', () => {
    const pts = new Float32Array([1, 0, -1, 0, 0, 2, 0, -2]);
    const g = fitGaussian(pts);
    expect(g.mean).toEqual([0, 0]);
    expect(g.covariance).toEqual([
      [0.5, 0],
      [0, 2],
    ]);
    // log N(0; 0, diag(0.5, 2)) = −log(2π) − ½ log det.
    expectClose(g.logDensity(0, 0), -Math.log(2 * Math.PI), { atol: 1e-12 });
    expect(() => fitGaussian(new Float32Array([1, 1, 2, 2, 3, 3]))).toThrow(/collinear/);
  });

  it('recovers the temperature of a scaled energy', () => {
    // Data from N(0, I): energy E = |x|²/2 handed over as E/β₀ must get β ≈ β₀ back.
    const grid = makeGrid({ lo: -6, hi: 6 }, 120);
    const beta0 = 7;
    const gridE = new Float32Array(grid.n * grid.n).map(
      (_, k) => (0.5 * (grid.points[2 * k]! ** 2 + grid.points[2 * k + 1]! ** 2)) / beta0,
    );
    // E[|x|²/2] = 1 for a standard 2-D Gaussian; E/β₀ averages 1/β₀.
    const train = new Float32Array(1000).fill(1 / beta0);
    expectClose(fitTemperature(gridE, train, grid.logCellArea), beta0, { rtol: 0.03 });
  });
});
