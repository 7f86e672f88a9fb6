/** What a training loop reports after each step. */
export interface StepEvent {
  epoch: number;
  epochs: number;
  /** Step within the epoch (0-based) and steps per epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Steps done in the whole run. */
  globalStep: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  /** Training throughput over the last steps (images through the encoder, all views). */
  imagesPerSecond: number;
  /** Estimated seconds left. */
  etaSeconds: number;
  /** True when a checkpoint with this step was written before this event. */
  checkpointed?: boolean;
}

/** One line of metrics.jsonl. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  learningRate: number;
  imagesPerSecond: number;
  seconds: number;
  /** Evaluation results (knn, linear probe, ...), when the recipe computes them. */
  metrics?: Record<string, number>;
  /** The run stopped mid-epoch: the record covers the steps done (a resume writes the full one). */
  partial?: boolean;
}

/**
 * A line of metrics.jsonl written every `logEverySteps` optimizer steps (`type: 'step'`), beside
 * the epoch records. `loss`, `learningRate` and `gradNorm` are those of step `step` itself (not a
 * mean over the steps since the last record); `imagesPerSecond` is the throughput since the last
 * record (or since the run started or resumed).
 */
export interface StepRecord {
  type: 'step';
  /** Optimizer steps done in the whole run, this one included (1-based, counted over resumes). */
  step: number;
  epoch: number;
  loss: number;
  learningRate: number;
  imagesPerSecond: number;
  /** Global L2 norm of the gradients the optimizer applied; absent for an optimizer whose own minimize() is used. */
  gradNorm?: number;
}

/** Hooks a caller passes to a recipe. Throwing from one stops training (the run can resume from its checkpoint). */
export interface TrainingCallbacks {
  /** Before the first step: the engine the run uses ('auto' resolved) and, if it fell back, why. */
  onStart?(event: StartEvent): void | Promise<void>;
  onStepEnd?(event: StepEvent): void | Promise<void>;
  onEpochEnd?(record: EpochRecord): void | Promise<void>;
}

/** What a training loop reports before its first step. */
export interface StartEvent {
  engine: 'tfjs' | 'onnxruntime';
  /** Why engine 'auto' ran on tfjs. */
  engineNote?: string;
}
