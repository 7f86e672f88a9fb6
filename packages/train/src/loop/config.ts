import type * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../optim/create-optimizer.js';
import type { EpochRecord, TrainingCallbacks } from '../progress/events.js';

/** Options every recipe shares. */
export interface TrainConfig {
  /** Passes over the training set. Default 1. */
  epochs?: number;
  /** Images per step (each gives several views). Default 256. */
  batchSize?: number;
  /** An optimizer config or a ready tfjs optimizer. Default Adam, learning rate 1e-3. */
  optimizer?: OptimizerConfig | tf.Optimizer;
  /** Linear warm-up, in epochs (fractions allowed), before the cosine decay. Default 0. */
  warmupEpochs?: number;
  /** 'cosine' (default) decays to `minLr`; 'constant' keeps the base rate. */
  schedule?: 'cosine' | 'constant';
  minLr?: number;
  seed?: number;
  /** Stop after this many optimizer steps in total. */
  maxSteps?: number;
  /**
   * Wall-clock budget in seconds. After a few steps the loop measures its speed and shrinks the
   * run (and the cosine schedule) to what fits.
   */
  timeBudgetSeconds?: number;
  /** Where metrics.jsonl and checkpoint/ go. Without it nothing is written. */
  runDir?: string;
  /** Write a checkpoint every this many epochs (when runDir is set). Default 1. */
  checkpointEvery?: number;
  /** Continue from runDir/checkpoint when it exists. Default false. */
  resume?: boolean;
  /** Progress and epoch hooks. */
  callbacks?: TrainingCallbacks | readonly TrainingCallbacks[];
  /** Evaluation run after each epoch (kNN, linear probe): its numbers go to the epoch record. */
  evaluate?: (epoch: number) => Promise<Record<string, number>> | Record<string, number>;
}

/** What every recipe returns besides its models. */
export interface TrainResult {
  history: EpochRecord[];
  /** Optimizer steps taken in this call (after a resume: the steps added). */
  steps: number;
  /** 'completed', 'maxSteps' or 'timeBudget'. */
  stopReason: 'completed' | 'maxSteps' | 'timeBudget';
  seconds: number;
}
