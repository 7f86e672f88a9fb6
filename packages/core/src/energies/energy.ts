import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { assertFloatTensor, assertNumber, assertSameDim } from '../validate.js';

/**
 * An energy F(x, y): low when y is compatible with x, high otherwise. Every energy works on
 * paired batches (one energy per row) and on two sets (all pairs), and divides by a
 * temperature so that exp(−F) is a well-scaled unnormalised density.
 */
export interface Energy {
  readonly name: string;
  readonly temperature: number;
  /** Paired energies F(x_i, y_i) for x: [n, dx] and y: [n, dy] → [n]. */
  paired(x: tf.Tensor, y: tf.Tensor): tf.Tensor1D;
  /** All-pairs energies F(x_i, y_j) for x: [n, dx] and y: [m, dy] → [n, m]. */
  pairwise(x: tf.Tensor, y: tf.Tensor): tf.Tensor2D;
  /** The trainable variables of a learned energy (empty for fixed ones). */
  readonly trainableVariables: readonly tf.Variable[];
  /** Frees the variables of a learned energy; a no-op for fixed ones. */
  dispose(): void;
}

export interface EnergyOptions {
  /** Energies are divided by this (> 0). Default 1. */
  temperature?: number;
}

interface EnergyKernels {
  paired(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor;
  pairwise(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor;
  /** Whether x and y must share their feature dimension (false for bilinear). */
  sameDim: boolean;
  variables?: tf.Variable[];
  checkDims?(x: tf.Tensor, y: tf.Tensor): void;
}

/** Builds an `Energy` from unchecked kernels: validation and temperature live here once. */
export function defineEnergy(name: string, options: EnergyOptions, kernels: EnergyKernels): Energy {
  const temperature = options.temperature ?? 1;
  assertNumber(temperature, `energies.${name}: temperature`, { min: 0, exclusiveMin: true });
  let disposed = false;
  const check = (x: tf.Tensor, y: tf.Tensor, mode: 'paired' | 'pairwise') => {
    if (disposed) {
      throw new EbmError('DISPOSED', `energies.${name} was disposed and cannot be evaluated.`);
    }
    const where = `energies.${name}.${mode}`;
    assertFloatTensor(x, 2, `${where}: x`);
    assertFloatTensor(y, 2, `${where}: y`);
    if (kernels.sameDim) assertSameDim(x, 1, `${where}: x`, y, 1, `${where}: y`);
    kernels.checkDims?.(x, y);
    if (mode === 'paired') assertSameDim(x, 0, `${where}: x`, y, 0, `${where}: y`);
  };
  const scale = (e: tf.Tensor) => (temperature === 1 ? e : tf.div(e, temperature));
  return {
    name,
    temperature,
    paired(x, y) {
      check(x, y, 'paired');
      return tf.tidy(() =>
        scale(kernels.paired(x as tf.Tensor2D, y as tf.Tensor2D)),
      ) as tf.Tensor1D;
    },
    pairwise(x, y) {
      check(x, y, 'pairwise');
      return tf.tidy(() =>
        scale(kernels.pairwise(x as tf.Tensor2D, y as tf.Tensor2D)),
      ) as tf.Tensor2D;
    },
    trainableVariables: kernels.variables ?? [],
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const v of kernels.variables ?? []) v.dispose();
    },
  };
}
