import { EbmError } from '@ebmjs/core';
import { describe, expect, it } from 'vitest';
import {
  energiesFromLogDensity,
  LAB_BOX,
  logBesselI0,
  logPartition,
  makeGrid,
  TOY_DATASET_NAMES,
  toyDataset,
  toySplit,
} from '../src/index.js';

describe('toy datasets', () => {
  it('are seeded: the same seed repeats, another seed differs, and the points stay in the box', () => {
    for (const name of TOY_DATASET_NAMES) {
      const ds = toyDataset(name);
      const a = ds.sample(500, 3);
      expect(Array.from(ds.sample(500, 3))).toEqual(Array.from(a));
      expect(Array.from(ds.sample(500, 4))).not.toEqual(Array.from(a));
      const inside = a.filter((v) => v > LAB_BOX.lo && v < LAB_BOX.hi).length;
      expect(inside / a.length, name).toBeGreaterThan(0.998);
    }
  });

  it('draw disjoint train and test streams', () => {
    const { train, test } = toySplit(toyDataset('moons'), { train: 50, test: 50, seed: 1 });
    expect(Array.from(train)).not.toEqual(Array.from(test));
  });

  it('have true densities that integrate to 1 on the box', () => {
    // h = 0.05 puts the checkerboard's edges on cell boundaries.
    const grid = makeGrid(LAB_BOX, 180);
    for (const name of ['moons', '8gaussians', 'rings', 'checkerboard'] as const) {
      const { logDensity } = toyDataset(name);
      expect(logDensity, name).toBeDefined();
      const logZ = logPartition(energiesFromLogDensity(logDensity!, grid.points), grid.logCellArea);
      expect(Math.abs(logZ), name).toBeLessThan(2e-3);
    }
    expect(toyDataset('pinwheel').logDensity).toBeUndefined();
  });

  it('match their samplers: the mean log-density of samples is the known entropy where closed-form', () => {
    // Checkerboard: uniform on 8 squares of area 4, so every sample has log p = −log 32.
    const cb = toyDataset('checkerboard');
    const pts = cb.sample(2000, 5);
    for (let i = 0; i < 2000; i++)
      expect(cb.logDensity!(pts[2 * i]!, pts[2 * i + 1]!)).toBeCloseTo(-Math.log(32), 10);
    // Off the dark squares the density is zero.
    expect(cb.logDensity!(1, -1)).toBe(Number.NEGATIVE_INFINITY);
    expect(cb.logDensity!(1, 1)).toBeCloseTo(-Math.log(32), 10);
    // 8 Gaussians with well-separated modes: entropy ≈ log 8 + log(2πe σ²), σ = 0.5/√2.
    const g8 = toyDataset('8gaussians');
    const s = g8.sample(20000, 6);
    let mean = 0;
    for (let i = 0; i < 20000; i++) mean -= g8.logDensity!(s[2 * i]!, s[2 * i + 1]!) / 20000;
    const sigma2 = 0.125;
    expect(mean).toBeCloseTo(Math.log(8) + Math.log(2 * Math.PI * Math.E * sigma2), 1);
  });

  it('computes log I0 to float precision', () => {
    // Series I0(z) = Σ (z²/4)^k / (k!)² for moderate z.
    const series = (z: number) => {
      let term = 1;
      let sum = 1;
      for (let k = 1; k < 200; k++) {
        term *= (z * z) / 4 / (k * k);
        sum += term;
      }
      return Math.log(sum);
    };
    for (const z of [0, 0.5, 2, 3.7, 3.8, 10, 50]) expect(logBesselI0(z)).toBeCloseTo(series(z), 5);
    // Large arguments stay finite: log I0(z) ≈ z − ½ log(2πz).
    expect(logBesselI0(1e4)).toBeCloseTo(1e4 - 0.5 * Math.log(2 * Math.PI * 1e4), 3);
  });

  it('rejects unknown names with an EbmError', () => {
    expect(() => toyDataset('spirals')).toThrow(EbmError);
    expect(() => toyDataset('spirals')).toThrow(/moons, 8gaussians/);
  });
});
