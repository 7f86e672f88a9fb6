import { EbmError, Rng, validate } from '@ebmjs/core';
import {
  binaryBatch,
  datasetSize,
  type ImageDataset,
  imageSize,
  type OptimizerConfig,
  pseudoLogLikelihood,
  RBM_METHODS,
  type RbmMethod,
  trainRBM,
} from '@ebmjs/train';

/** The rows at `indices`, copied (train's `subset`, which it does not export). */
function pick(ds: ImageDataset, indices: ArrayLike<number>, name: string): ImageDataset {
  const d = imageSize(ds);
  const pixels = new Uint8Array(indices.length * d);
  const labels = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    pixels.set(ds.pixels.subarray(i * d, (i + 1) * d), r * d);
    labels[r] = ds.labels[i]!;
  }
  return { name, imageShape: ds.imageShape, pixels, labels, classNames: ds.classNames };
}

/**
 * The candidates `selectRbmOptimizers` tries per method. For PCD, plain SGD (momentum 0, the
 * rate on the batch mean) is scikit-learn's BernoulliRBM update, from 0.02 to 0.5 around its
 * MNIST rate 0.05 (the grid grew upwards while its top rate kept winning); the old lab setting,
 * SGD momentum 0.9 at 0.002, takes the long-run step of plain SGD at 0.02, the grid's lowest. Momentum 0.9 at a 10× smaller rate has the
 * same long-run step as plain SGD, so the CD and ratio-matching grids ask whether momentum
 * helps; Adam for MPF, whose log-flow objective has gradients of very uneven scale. Candidates
 * are independent runs (same split, same seed), so any one can be rerun alone.
 */
export const RBM_OPTIMIZER_GRID: Record<RbmMethod, readonly OptimizerConfig[]> = {
  cd: [
    { name: 'sgd', learningRate: 0.05, momentum: 0 },
    { name: 'sgd', learningRate: 0.1, momentum: 0 },
    { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  ],
  pcd: [
    { name: 'sgd', learningRate: 0.02, momentum: 0 },
    { name: 'sgd', learningRate: 0.05, momentum: 0 },
    { name: 'sgd', learningRate: 0.1, momentum: 0 },
    { name: 'sgd', learningRate: 0.2, momentum: 0 },
    { name: 'sgd', learningRate: 0.5, momentum: 0 },
  ],
  'ratio-matching': [
    { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
    { name: 'sgd', learningRate: 0.1, momentum: 0 },
  ],
  mpf: [
    { name: 'adam', learningRate: 1e-3 },
    { name: 'adam', learningRate: 3e-3 },
  ],
};

export interface RbmSelectionOptions {
  methods?: readonly RbmMethod[];
  /** Candidates per method. Default RBM_OPTIMIZER_GRID. */
  grid?: Partial<Record<RbmMethod, readonly OptimizerConfig[]>>;
  /** Training images held out to score the candidates. Default 2000. */
  validationSize?: number;
  /** Images each candidate trains on (from the rest). Default 20000. */
  trainSize?: number;
  /** The budget of each candidate, as in runRbmLab. Defaults 64 hidden, 1500 steps, batch 64. */
  numHidden?: number;
  steps?: number;
  batchSize?: number;
  seed?: number;
  onProgress?: (event: RbmSelectionProgress) => void;
}

export interface RbmSelectionProgress {
  phase: 'rbm-select';
  method: RbmMethod;
  optimizer: OptimizerConfig;
  /** Mean exact pseudo-log-likelihood on the validation images, nats/image. */
  validationPll: number;
  seconds: number;
}

export interface RbmSelectionRow {
  method: RbmMethod;
  optimizer: OptimizerConfig;
  validationPll: number;
  seconds: number;
}

export interface RbmSelection {
  validationSize: number;
  trainSize: number;
  numHidden: number;
  steps: number;
  batchSize: number;
  rows: RbmSelectionRow[];
  /** Per method, the candidate with the highest validation pseudo-log-likelihood. */
  best: Partial<Record<RbmMethod, OptimizerConfig>>;
}

/**
 * Splits the training images (seeded) into a validation part and the rest. The validation
 * rows are never trained on by the candidates, and the test images are never seen: this is
 * how the lab's RBM optimizers are chosen.
 */
export function rbmValidationSplit(
  trainSet: ImageDataset,
  validationSize: number,
  seed = 0,
): { train: ImageDataset; validation: ImageDataset } {
  const n = datasetSize(trainSet);
  validate.assertNumber(validationSize, 'rbmValidationSplit: validationSize', {
    min: 1,
    integer: true,
  });
  if (validationSize >= n) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `rbmValidationSplit: validationSize must be below the ${n} training images, received ${validationSize}.`,
    );
  }
  const order = new Rng(seed + 11).permutation(n, n);
  return {
    validation: pick(trainSet, order.subarray(0, validationSize), `${trainSet.name}-validation`),
    train: pick(trainSet, order.subarray(validationSize), trainSet.name),
  };
}

/**
 * Chooses each RBM method's optimizer on a validation split of the training images: every
 * candidate of the grid trains an RBM at the given budget on the rest of the training images,
 * and the one with the highest mean exact pseudo-log-likelihood on the validation images wins.
 */
export async function selectRbmOptimizers(
  trainSet: ImageDataset,
  options: RbmSelectionOptions = {},
): Promise<RbmSelection> {
  const {
    methods = RBM_METHODS,
    validationSize = 2000,
    trainSize = 20000,
    numHidden = 64,
    steps = 1500,
    batchSize = 64,
    seed = 0,
  } = options;
  const grid = { ...RBM_OPTIMIZER_GRID, ...options.grid };
  const split = rbmValidationSplit(trainSet, validationSize, seed);
  const pool = split.train;
  const train =
    trainSize >= datasetSize(pool)
      ? pool
      : pick(pool, new Rng(seed + 1).permutation(datasetSize(pool), trainSize), pool.name);
  const valV = binaryBatch(
    split.validation,
    Int32Array.from({ length: validationSize }, (_, i) => i),
  );
  const scored: RbmSelectionRow[] = [];
  const best: Partial<Record<RbmMethod, OptimizerConfig>> = {};
  try {
    const stepsPerEpoch = Math.floor(datasetSize(train) / batchSize);
    for (const method of methods) {
      let top = Number.NEGATIVE_INFINITY;
      for (const optimizer of grid[method]) {
        const result = await trainRBM({
          dataset: train,
          method,
          numHidden,
          k: 1,
          batchSize,
          epochs: Math.max(1, Math.ceil(steps / stepsPerEpoch)),
          maxSteps: steps,
          optimizer,
          seed,
          monitor: false,
        });
        let validationPll: number;
        try {
          const values = pseudoLogLikelihood(result.rbm, valV);
          validationPll = values.reduce((a, b) => a + b, 0) / values.length;
        } finally {
          result.rbm.dispose();
        }
        const row = { method, optimizer, validationPll, seconds: result.seconds };
        scored.push(row);
        options.onProgress?.({ phase: 'rbm-select', ...row });
        if (validationPll > top) [top, best[method]] = [validationPll, optimizer];
      }
    }
  } finally {
    valV.dispose();
  }
  return {
    validationSize,
    trainSize: datasetSize(train),
    numHidden,
    steps,
    batchSize,
    rows: scored,
    best,
  };
}
