import { EbmError } from '@ebmjs/core';
import { fitGaussian } from './gaussian-baseline.js';
import {
  type Box,
  energiesFromLogDensity,
  evaluateEnergy,
  evaluateLogDensity,
  type Grid,
  LAB_BOX,
  makeGrid,
} from './grid.js';
import { LAB_METHOD_NAMES, type LabMethodName, labMethod } from './methods/index.js';
import { type ToyDatasetName, toyDataset, toySplit } from './toy-data.js';
import { trainToy } from './train-toy.js';

export interface ToyLabOptions {
  datasets: readonly ToyDatasetName[];
  methods?: readonly LabMethodName[];
  /** Optimizer steps per method (the shared budget). */
  steps: number;
  /** Default 256. */
  batchSize?: number;
  /** Adam's base rate (cosine decay to 0). Default 5e-3. */
  learningRate?: number;
  /** Default [64, 64]. */
  hiddenUnits?: readonly number[];
  /** Cells per side of the evaluation grid. Default 360 (h = 0.025 on [−4.5, 4.5]). */
  gridSize?: number;
  /** Training and test points per dataset. Defaults 20000 and 5000. */
  trainSize?: number;
  testSize?: number;
  seed?: number;
  onProgress?: (event: ToyProgress) => void;
}

export interface ToyProgress {
  phase: 'toy';
  dataset: ToyDatasetName;
  method: LabMethodName;
  step: number;
  steps: number;
  loss: number;
}

export interface ToyMethodResult {
  /** Test NLL in nats, exp(−E) normalised on the grid. */
  nll: number;
  /** Whether the NLL is below the fitted Gaussian's. */
  beatsGaussian: boolean;
  /** Training seconds. */
  seconds: number;
  /** Loss at the first and the last step. */
  firstLoss: number;
  lastLoss: number;
  /** The method's settings on this dataset (the DAE's fitted β differs per dataset). */
  settings: string;
}

export interface ToyLabRow {
  dataset: ToyDatasetName;
  title: string;
  /** NLL of the generating density on the same grid; null where it has no closed form. */
  trueNll: number | null;
  gaussianNll: number;
  methods: Partial<Record<LabMethodName, ToyMethodResult>>;
}

export interface ToyLabTable {
  steps: number;
  batchSize: number;
  learningRate: number;
  hiddenUnits: number[];
  box: Box;
  gridSize: number;
  trainSize: number;
  testSize: number;
  seed: number;
  methods: { name: LabMethodName; title: string; settings: string }[];
  rows: ToyLabRow[];
}

/** Grid energies for the picture of one dataset: the truth (or a histogram) and each method. */
export interface ToyLabSurfaces {
  dataset: ToyDatasetName;
  grid: Grid;
  /** −log p of the truth, or of a smoothed histogram of the training data (no closed form). */
  reference: { energies: Float32Array; kind: 'true density' | 'data histogram' };
  /** −log p of the fitted Gaussian. */
  gaussian: Float32Array;
  methods: Partial<Record<LabMethodName, Float32Array>>;
  /** Training points to draw on top. */
  points: Float32Array;
}

const OVERLAY_POINTS = 500;

/** −log of a 2-D histogram of `points` on the grid, lightly smoothed (3×3 box), for pictures. */
function histogramEnergies(points: Float32Array, grid: Grid): Float32Array {
  const { n, box, h } = grid;
  const counts = new Float32Array(n * n);
  for (let k = 0; k < points.length / 2; k++) {
    const i = Math.floor((points[2 * k]! - box.lo) / h);
    const j = Math.floor((points[2 * k + 1]! - box.lo) / h);
    if (i >= 0 && j >= 0 && i < n && j < n) counts[j * n + i]! += 1;
  }
  const out = new Float32Array(n * n);
  const r = Math.max(1, Math.round(n / 120));
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let y = Math.max(0, j - r); y <= Math.min(n - 1, j + r); y++)
        for (let x = Math.max(0, i - r); x <= Math.min(n - 1, i + r); x++) s += counts[y * n + x]!;
      out[j * n + i] = -Math.log(s + 1e-3);
    }
  return out;
}

/**
 * Trains every method on every dataset with the same budget and evaluates each exactly: the
 * learned exp(−E) is normalised on a fine grid over the box and scored on held-out points.
 */
export function runToyLab(options: ToyLabOptions): {
  table: ToyLabTable;
  surfaces: ToyLabSurfaces[];
} {
  const methods = [...(options.methods ?? LAB_METHOD_NAMES)];
  if (methods.length === 0 || options.datasets.length === 0) {
    throw new EbmError('INVALID_ARGUMENT', 'runToyLab: needs at least one dataset and one method.');
  }
  const resolved = methods.map((m) => labMethod(m));
  const datasets = options.datasets.map((d) => toyDataset(d));
  const {
    steps,
    batchSize = 256,
    learningRate = 5e-3,
    hiddenUnits = [64, 64],
    gridSize = 360,
    trainSize = 20000,
    testSize = 5000,
    seed = 0,
  } = options;
  const grid = makeGrid(LAB_BOX, gridSize);
  const rows: ToyLabRow[] = [];
  const surfaces: ToyLabSurfaces[] = [];
  const settings = new Map<LabMethodName, string>();
  for (const ds of datasets) {
    const { train, test } = toySplit(ds, { train: trainSize, test: testSize, seed });
    const fitted = fitGaussian(train);
    const gaussian = evaluateLogDensity(fitted.logDensity, grid, test);
    const truth = ds.logDensity ? evaluateLogDensity(ds.logDensity, grid, test) : undefined;
    const row: ToyLabRow = {
      dataset: ds.name,
      title: ds.title,
      trueNll: truth?.nll ?? null,
      gaussianNll: gaussian.nll,
      methods: {},
    };
    const surface: ToyLabSurfaces = {
      dataset: ds.name,
      grid,
      reference: ds.logDensity
        ? { energies: energiesFromLogDensity(ds.logDensity, grid.points), kind: 'true density' }
        : { energies: histogramEnergies(train, grid), kind: 'data histogram' },
      gaussian: gaussian.gridEnergies,
      methods: {},
      points: train.subarray(0, 2 * Math.min(OVERLAY_POINTS, train.length / 2)),
    };
    for (const method of resolved) {
      const trained = trainToy(method, train, {
        steps,
        batchSize,
        learningRate,
        hiddenUnits,
        seed,
        box: LAB_BOX,
        every: Math.max(1, Math.floor(steps / 20)),
        onStep: (step, loss) =>
          options.onProgress?.({
            phase: 'toy',
            dataset: ds.name,
            method: method.name,
            step,
            steps,
            loss,
          }),
      });
      try {
        trained.model.calibrate?.(train, grid);
        const ev = evaluateEnergy((y) => trained.model.energy(y), grid, test);
        row.methods[method.name] = {
          nll: ev.nll,
          beatsGaussian: ev.nll < gaussian.nll,
          seconds: trained.seconds,
          firstLoss: trained.losses[0]!.loss,
          lastLoss: trained.losses[trained.losses.length - 1]!.loss,
          settings: trained.model.settings,
        };
        surface.methods[method.name] = ev.gridEnergies;
        if (!settings.has(method.name)) settings.set(method.name, trained.model.settings);
      } finally {
        trained.model.dispose();
      }
    }
    rows.push(row);
    surfaces.push(surface);
  }
  return {
    table: {
      steps,
      batchSize,
      learningRate,
      hiddenUnits: [...hiddenUnits],
      box: LAB_BOX,
      gridSize,
      trainSize,
      testSize,
      seed,
      methods: resolved.map((m) => ({
        name: m.name,
        title: m.title,
        settings: settings.get(m.name) ?? '',
      })),
      rows,
    },
    surfaces,
  };
}
