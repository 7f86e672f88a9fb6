import type { Rng } from '@ebmjs/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { Box, Grid } from '../grid.js';

/** The six ways the lab shapes a 2-D energy surface. */
export type LabMethodName = 'ml' | 'cd' | 'pcd' | 'nce' | 'dsm' | 'dae';

export const LAB_METHOD_NAMES: readonly LabMethodName[] = ['ml', 'cd', 'pcd', 'nce', 'dsm', 'dae'];

/** What every method gets: the same data, net size, seed and step budget. */
export interface MethodContext {
  /** Training points, row-major [n, 2]. */
  train: Float32Array;
  box: Box;
  /** Hidden widths of the energy MLP (the DAE mirrors them in its decoder). */
  hiddenUnits: readonly number[];
  seed: number;
  steps: number;
}

/** A model being trained by one method. */
export interface TrainableEnergy {
  /** The loss of one batch [b, 2]; called inside optimizer.minimize, so it is differentiated. */
  loss(batch: tf.Tensor2D, rng: Rng): tf.Scalar;
  variables(): tf.Variable[];
  /** The learned energy y [m, 2] → [m], up to an additive constant. */
  energy(y: tf.Tensor): tf.Tensor;
  /** Post-training fit of anything the loss leaves free (the DAE's temperature). */
  calibrate?(train: Float32Array, grid: Grid): void;
  /** One-line settings, for the report. */
  readonly settings: string;
  dispose(): void;
}

export interface LabMethod {
  name: LabMethodName;
  /** Column title. */
  title: string;
  create(context: MethodContext): TrainableEnergy;
}
