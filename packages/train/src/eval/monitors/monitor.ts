import type * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../../datasets/dataset.js';

/** What a monitor sees when it measures, at the end of an epoch. */
export interface MonitorContext {
  /** The epoch just trained (0-based). */
  epoch: number;
  /** Optimizer steps done in the whole run when it measures (absent without `callbacks`). */
  step?: number;
  /**
   * Embeddings [n, d] of every image of `dataset` by the encoder being trained, in inference
   * mode (BatchNorm's moving statistics), detached from any gradient. Computed once per
   * measurement and dataset object, shared by the monitors, and disposed after it: do not keep.
   */
  embed(dataset: ImageDataset): tf.Tensor2D;
}

/**
 * A measurement taken during training (`knnMonitor`, `onlineLinearProbe`), attached to a run
 * with `trainingMonitors`. It measures after every `every`-th epoch and after the plan's last.
 */
export interface Monitor {
  /** For messages ("knnMonitor"). */
  readonly name: string;
  /** Measure after every this many epochs. */
  readonly every: number;
  /** The monitor's numbers (fractions for accuracies), to go into the epoch record's metrics. */
  measure(context: MonitorContext): Record<string, number>;
  /** Frees what the monitor keeps between measurements (a probe's weights). */
  dispose?(): void;
}
