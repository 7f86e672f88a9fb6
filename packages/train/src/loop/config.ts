import type { OptionDefaults } from '@ebmjs/contract';
import type * as tf from '@tensorflow/tfjs-core';
import type { OnnxRuntimeEngineOptions, TrainingEngineName } from '../engine/engine-config.js';
import type { OptimizerConfig } from '../optim/create-optimizer.js';
import type { EpochRecord, TrainingCallbacks } from '../progress/events.js';
import type { SamplerOption } from './sampler.js';

/** Options every recipe shares. */
export interface TrainConfig {
  /** Passes over the training set. Default 1. */
  epochs?: number;
  /** Images per step (each gives several views). Default 256. */
  batchSize?: number;
  /**
   * How the loop orders the data into batches. 'random' (default): a seeded shuffle per epoch.
   * `{ mPerClass: m }`: `mPerClassSampler`, m rows of each of batchSize / m classes a batch
   * (pytorch-metric-learning's MPerClassSampler), for labelled losses; it needs a recipe that
   * hands the loop its labels (`LoopSpec.labels`). Either replays exactly on resume.
   */
  sampler?: SamplerOption;
  /** An optimizer config or a ready tfjs optimizer. Default Adam, learning rate 1e-3. */
  optimizer?: OptimizerConfig | tf.Optimizer;
  /** Linear warm-up, in epochs (fractions allowed), before the cosine decay. Default 0. */
  warmupEpochs?: number;
  /** 'cosine' (default) decays to `minLr`; 'constant' keeps the base rate. */
  schedule?: 'cosine' | 'constant';
  minLr?: number;
  seed?: number;
  /**
   * Stop after this many optimizer steps in total (counted over resumes). It stops the run
   * without changing its plan: the schedule still spans all `epochs`, and a resume without it
   * (or with a larger one) completes the plan exactly.
   */
  maxSteps?: number;
  /**
   * Wall-clock budget in seconds. After a few steps the loop measures its speed and fits the
   * plan (and the cosine schedule) to what the budget affords; the fitted plan is the run's
   * plan from then on, and a resume completes it. If steps slow down, the loop stops at the
   * budget anyway (a resume then completes the fitted plan).
   */
  timeBudgetSeconds?: number;
  /** Where metrics.jsonl and checkpoint/ go. Without it nothing is written. */
  runDir?: string;
  /** Write a checkpoint every this many epochs (when runDir is set). Default 1. */
  checkpointEvery?: number;
  /**
   * Also write a checkpoint every this many optimizer steps, mid-epoch included, so a crash
   * (kill -9) loses at most these steps and the resume is still exact. Default: epochs only.
   */
  checkpointEverySteps?: number;
  /**
   * With runDir: write a step record (`type: 'step'`: loss, learning rate, images/s, gradient
   * norm) to metrics.jsonl every this many optimizer steps; 0 writes none. Changes no numbers.
   * Default 10.
   */
  logEverySteps?: number;
  /**
   * Continue from runDir/checkpoint when it exists. Every setting that changes the math must
   * match the checkpoint's (an EbmError names each one that differs). Default false.
   */
  resume?: boolean;
  /**
   * With `resume`: continue a run for more (or as many) `epochs` than it was started with. The
   * plan becomes the new epochs and the schedule is rebuilt for it. Default false.
   */
  extend?: boolean;
  /**
   * Stops the run at the next step boundary: the loop writes a checkpoint (with runDir) and
   * returns with stopReason 'aborted' (the CLI aborts on SIGINT).
   */
  signal?: AbortSignal;
  /**
   * What runs each step: 'tfjs' (default), 'onnxruntime' (the whole step compiled to one ONNX
   * graph on ONNX Runtime's native kernels) or 'auto' (onnxruntime when the step compiles,
   * otherwise tfjs with the reason in the result's `engineNote`). See `TrainingEngineName`.
   * Checkpoints do not depend on it: a run resumes on either engine.
   */
  engine?: TrainingEngineName;
  /** Threads and runtime module of the onnxruntime engine. */
  onnxruntime?: OnnxRuntimeEngineOptions;
  /** Progress and epoch hooks. */
  callbacks?: TrainingCallbacks | readonly TrainingCallbacks[];
  /** Evaluation run after each epoch (kNN, linear probe): its numbers go to the epoch record. */
  evaluate?: (epoch: number) => Promise<Record<string, number>> | Record<string, number>;
}

/**
 * The loop's option keys, for the `resolveOptions` of every recipe: a recipe accepts these
 * besides its own and hands them on to the loop untouched. Their defaults stay `undefined`
 * here because the loop applies them (and a resume fingerprint tells "unset" from a value).
 * Typed `OptionDefaults`, so a key added to `TrainConfig` but not here is a type error.
 */
export const TRAIN_CONFIG_KEYS: OptionDefaults<TrainConfig> = {
  epochs: undefined,
  batchSize: undefined,
  sampler: undefined,
  optimizer: undefined,
  warmupEpochs: undefined,
  schedule: undefined,
  minLr: undefined,
  seed: undefined,
  maxSteps: undefined,
  timeBudgetSeconds: undefined,
  runDir: undefined,
  checkpointEvery: undefined,
  checkpointEverySteps: undefined,
  logEverySteps: undefined,
  resume: undefined,
  extend: undefined,
  signal: undefined,
  engine: undefined,
  onnxruntime: undefined,
  callbacks: undefined,
  evaluate: undefined,
};

/** What every recipe returns besides its models. */
export interface TrainResult {
  history: EpochRecord[];
  /** Optimizer steps taken in this call (after a resume: the steps added). */
  steps: number;
  /**
   * 'completed' (the plan is done), 'maxSteps', 'timeBudget' (stopped at the budget, or the
   * fitted plan is done) or 'aborted' (the signal aborted).
   */
  stopReason: 'completed' | 'maxSteps' | 'timeBudget' | 'aborted';
  seconds: number;
  /** The engine that ran the steps ('auto' resolved). */
  engine: 'tfjs' | 'onnxruntime';
  /** Why engine 'auto' ran on tfjs. */
  engineNote?: string;
}
