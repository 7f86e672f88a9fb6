import type { Rng } from '@ebmjs/core';
import type { experimental } from '@ebmjs/export';
import type * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../optim/create-optimizer.js';

/** What the loop hands a recipe that compiles its step (`LoopSpec.compile`). */
export interface CompileContext {
  recipe: string;
  batchSize: number;
  /** The loop's optimizer (holding the resumed state, if any) and the config it was made from. */
  optimizer: tf.Optimizer;
  optimizerConfig: OptimizerConfig;
  /** The variables the optimizer updates, in the loop's fixed order. */
  trainable: readonly tf.Variable[];
  /** Optimizer steps already taken (a resumed run continues its bias corrections). */
  startStep: number;
  runtime: experimental.OrtLike;
  threads: number;
}

/** Where a step stands in the run's plan (what the tfjs step's `afterStep` is told). */
export interface StepProgress {
  /** 0-based index of this step in the run. */
  step: number;
  totalSteps: number;
}

/** A recipe's training step running as one compiled ONNX graph (the onnxruntime engine). */
export interface CompiledStep {
  /**
   * One optimizer step on the batch `indices`, drawing its randomness (augmentations) from
   * `rng` exactly as the recipe's tfjs step does, at learning rate `lr`. Returns the loss.
   */
  run(indices: Int32Array, rng: Rng, lr: number, progress: StepProgress): Promise<number>;
  /**
   * Writes the graph's weights, moving statistics and optimizer state back into the tfjs models
   * and optimizer, so checkpoints, evaluations and the returned encoder see the trained values.
   */
  sync(): Promise<void>;
  release(): Promise<void>;
}
