import { resolveOptions } from '@ebmjs/contract';
import { EbmError, ReplayBuffer, type Rng, untaped, validate } from '@ebmjs/core';
import { contrastiveDivergence, minimumProbabilityFlow, ratioMatching } from '@ebmjs/losses';
import { loadBundle, RBM, type SaveTarget, saveBundle } from '@ebmjs/models';
import type * as tf from '@tensorflow/tfjs-core';
import { datasetSize, type ImageDataset, imageSize, take } from '../datasets/dataset.js';
import type { Saveable } from '../loop/checkpoint.js';
import { TRAIN_CONFIG_KEYS, type TrainConfig, type TrainResult } from '../loop/config.js';
import { runTrainingLoop } from '../loop/train-loop.js';
import {
  binaryBatch,
  mean,
  pseudoLogLikelihood,
  rbmLogProbabilityFlow,
  rbmRatioMatching,
  reconstructionError,
} from './rbm-measures.js';

/** How the RBM is trained: the four classic methods for binary energies. */
export type RbmMethod = 'cd' | 'pcd' | 'ratio-matching' | 'mpf';

export const RBM_METHODS: readonly RbmMethod[] = ['cd', 'pcd', 'ratio-matching', 'mpf'];

export interface TrainRBMConfig extends TrainConfig {
  /** Images; each pixel becomes a visible unit, on when pixel/255 > `threshold`. */
  dataset: ImageDataset;
  /**
   * 'cd': CD-k, chains start at the batch (Hinton 2002). 'pcd': persistent chains (Tieleman
   * 2008). 'ratio-matching' (Hyvärinen 2007) and 'mpf' (minimum probability flow,
   * Sohl-Dickstein et al. 2011): single-bit-flip objectives that need no sampling. Default 'cd'.
   */
  method?: RbmMethod;
  /** Hidden units (ignored when `rbm` is given). Default 64. */
  numHidden?: number;
  /** Block-Gibbs steps per update for CD and PCD. Default 1. */
  k?: number;
  /**
   * Persistent chains for PCD. Default: the batch size, one chain per batch row as in
   * scikit-learn's BernoulliRBM (started from the pixel marginals, never restarted). With plain
   * SGD (`{ name: 'sgd', learningRate, momentum: 0 }`) an update is exactly BernoulliRBM's:
   * data and negatives enter with their hidden probabilities, the rate scales the batch mean
   * (tested against a float64 transcription of sklearn's `_fit`). PCD wants a large rate:
   * sklearn's MNIST setting is 0.05; SGD momentum 0.9 at 0.002 (an earlier lab default) moves
   * about 2.5× slower and ends 30 nats of test pseudo-log-likelihood behind.
   */
  chains?: number;
  /** Binarisation threshold in [0, 1). Default 0.5. */
  threshold?: number;
  /** Train this RBM instead of a new one (its numVisible must be the image size). */
  rbm?: RBM;
  /**
   * Rows on which the pseudo-log-likelihood and the reconstruction error are measured after
   * every epoch (they go to each epoch's `metrics`): a dataset, or false for none. Default: 500
   * training rows.
   */
  monitor?: ImageDataset | false;
  /**
   * Compute ratio matching and MPF from closed-form bit-flip gaps (default true) instead of
   * the generic losses of @ebmjs/losses, which evaluate F on all n·V flipped states.
   */
  closedFormFlips?: boolean;
}

export interface TrainRBMResult extends TrainResult {
  /** The trained model (the one passed in, or a new one the caller owns). */
  rbm: RBM;
}

/** A replay buffer as a checkpoint part. */
function bufferSaveable(buffer: ReplayBuffer): Saveable {
  return {
    save: (target: SaveTarget) => {
      const s = buffer.state();
      return saveBundle(target, 'replay-buffer', {
        state: {
          capacity: s.capacity,
          sampleShape: s.sampleShape,
          reinitProb: s.reinitProb,
          rngState: s.rngState,
        },
        tensors: { data: { shape: [s.data.length], data: s.data } },
      });
    },
  };
}

async function restoreBuffer(buffer: ReplayBuffer, dir: string): Promise<void> {
  const bundle = await loadBundle(dir, 'replay-buffer', { tensors: ['data'] });
  const st = bundle.state;
  buffer.restore({
    version: 1,
    capacity: Number(st['capacity']),
    sampleShape: st['sampleShape'] as number[],
    reinitProb: Number(st['reinitProb']),
    rngState: Number(st['rngState']),
    data: bundle.tensors['data']!.data,
  });
}

/**
 * Trains a binary RBM on binarised images with CD-k, PCD, ratio matching or minimum
 * probability flow, on the shared training loop: optimizer configs, cosine schedule,
 * callbacks, metrics.jsonl and checkpoints that resume exactly (weights, optimizer slots,
 * persistent chains and every random stream). The loss of CD/PCD is F(data) − F(samples),
 * not a likelihood, so each epoch also records the monitor set's pseudo-log-likelihood
 * (`metrics.pseudoLogLikelihood`, nats per image) and reconstruction error.
 */
export async function trainRBM(given: TrainRBMConfig): Promise<TrainRBMResult> {
  const where = 'trainRBM';
  const config = resolveOptions(where, given, {
    dataset: undefined,
    method: 'cd',
    numHidden: 64,
    k: 1,
    chains: undefined,
    threshold: 0.5,
    rbm: undefined,
    monitor: undefined,
    closedFormFlips: true,
    ...TRAIN_CONFIG_KEYS,
  });
  const { dataset, method, k, threshold, closedFormFlips } = config;
  if (!dataset || !(dataset.pixels instanceof Uint8Array)) {
    throw new EbmError('INVALID_ARGUMENT', `${where}: dataset must be an ImageDataset.`);
  }
  if (!RBM_METHODS.includes(method)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: method must be one of ${RBM_METHODS.join(', ')}, received ${String(method)}.`,
    );
  }
  validate.assertNumber(k, `${where}: k`, { min: 1, integer: true });
  validate.assertNumber(threshold, `${where}: threshold`, { min: 0, max: 1 });
  const numVisible = imageSize(dataset);
  const batchSize = config.batchSize ?? 256;
  const chains = config.chains ?? batchSize;
  validate.assertNumber(chains, `${where}: chains`, { min: 1, integer: true });
  if (config.rbm !== undefined && config.rbm.numVisible !== numVisible) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: the RBM has ${config.rbm.numVisible} visible units, the images have ${numVisible} pixels.`,
    );
  }
  const rbm =
    config.rbm ?? new RBM({ numVisible, numHidden: config.numHidden, seed: config.seed ?? 0 });
  const seed = config.seed ?? 0;

  // PCD chains start from the data's pixel marginals (Hinton's guide); they never restart.
  let buffer: ReplayBuffer | undefined;
  if (method === 'pcd') {
    const marginals = new Float32Array(numVisible);
    const n = datasetSize(dataset);
    const cut = threshold * 255;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < numVisible; j++)
        if (dataset.pixels[i * numVisible + j]! > cut) marginals[j]! += 1 / n;
    buffer = new ReplayBuffer({
      capacity: chains,
      sampleShape: [numVisible],
      reinitProb: 0,
      init: (out, rng) => {
        for (let i = 0; i < out.length; i++)
          out[i] = rng.next() < marginals[i % numVisible]! ? 1 : 0;
      },
      seed: seed + 101,
    });
  }
  const cd = contrastiveDivergence({ sampler: 'gibbs' });
  const rm = closedFormFlips ? undefined : ratioMatching(rbm.freeEnergy);
  const mpf = closedFormFlips ? undefined : minimumProbabilityFlow(rbm.freeEnergy, { log: true });

  const negatives = (v: tf.Tensor2D, rng: Rng): tf.Tensor2D =>
    // Sampling is not differentiated: untaped keeps the chain off the optimizer's tape.
    untaped(() => {
      if (!buffer) {
        const chain = rbm.sample(v, k, rng.seed());
        chain.h.dispose();
        return chain.v;
      }
      const drawn = buffer.sample(chains);
      try {
        const chain = rbm.sample(drawn.samples, k, rng.seed());
        chain.h.dispose();
        buffer.update(drawn.indices, chain.v);
        return chain.v;
      } finally {
        drawn.samples.dispose();
      }
    });

  const loss = (indices: Int32Array, rng: Rng): tf.Scalar => {
    const v = binaryBatch(dataset, indices, threshold);
    try {
      if (method === 'ratio-matching') return rm ? rm(v) : rbmRatioMatching(rbm, v);
      if (method === 'mpf') return mpf ? mpf(v) : rbmLogProbabilityFlow(rbm, v);
      const neg = negatives(v, rng);
      try {
        return cd(rbm.freeEnergy, v, neg);
      } finally {
        neg.dispose();
      }
    } finally {
      v.dispose();
    }
  };

  const monitorSet =
    config.monitor === false
      ? undefined
      : (config.monitor ?? take(dataset, Math.min(500, datasetSize(dataset))));
  const monitorIndices = monitorSet
    ? Int32Array.from({ length: datasetSize(monitorSet) }, (_, i) => i)
    : undefined;
  const evaluate = async (epoch: number): Promise<Record<string, number>> => {
    const ours: Record<string, number> = {};
    if (monitorSet && monitorIndices) {
      const v = binaryBatch(monitorSet, monitorIndices, threshold);
      try {
        ours['pseudoLogLikelihood'] = mean(pseudoLogLikelihood(rbm, v));
        ours['reconstructionError'] = reconstructionError(rbm, v);
      } finally {
        v.dispose();
      }
    }
    return { ...ours, ...((await config.evaluate?.(epoch)) ?? {}) };
  };

  const extras = (): Record<string, Saveable> => ({
    rbm,
    ...(buffer ? { chains: bufferSaveable(buffer) } : {}),
  });
  try {
    const result = await runTrainingLoop({
      config: { ...config, evaluate },
      recipe: where,
      datasetSize: datasetSize(dataset),
      viewsPerImage: 1,
      trainable: () => rbm.trainableVariables,
      loss,
      models: () => ({}),
      extras,
      restoreExtras: async (dirOf) => {
        const saved = await RBM.load(dirOf('rbm'));
        try {
          rbm.assign({
            weights: saved.weights,
            visibleBias: saved.visibleBias,
            hiddenBias: saved.hiddenBias,
          });
        } finally {
          saved.dispose();
        }
        if (buffer) await restoreBuffer(buffer, dirOf('chains'));
      },
      fingerprint: {
        recipe: where,
        method,
        numVisible,
        numHidden: rbm.numHidden,
        k,
        chains: method === 'pcd' ? chains : null,
        threshold,
        dataset: dataset.name,
        datasetSize: datasetSize(dataset),
        closedFormFlips,
      },
    });
    return { ...result, rbm };
  } catch (error) {
    if (config.rbm === undefined) rbm.dispose();
    throw error;
  }
}
