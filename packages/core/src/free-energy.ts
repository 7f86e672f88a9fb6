import * as tf from '@tensorflow/tfjs-core';
import * as ops from './ops.js';
import { assertFloatTensor, assertNumber, resolveAxis } from './validate.js';

export interface FreeEnergyOptions {
  /** Inverse temperature β > 0. As β → ∞ the free energy tends to the minimum over z. Default 1. */
  beta?: number;
  /** The latent axis to marginalise. Default: the last. */
  axis?: number;
  keepDims?: boolean;
}

/**
 * Free energy over a latent variable: F_β(x, y) = −(1/β) log Σ_z exp(−β E(x, y, z)).
 * `energies` holds E for every value of z along `axis`. Computed with a stable log-sum-exp,
 * so it holds for β = 1e4 and for energies of magnitude 1e6.
 */
export function freeEnergy(energies: tf.Tensor, options: FreeEnergyOptions = {}): tf.Tensor {
  const { beta = 1, keepDims = false } = options;
  assertFloatTensor(energies, [1, 2, 3, 4, 5, 6], 'freeEnergy: energies');
  assertNumber(beta, 'freeEnergy: beta', { min: 0, exclusiveMin: true });
  const axis = resolveAxis(options.axis ?? -1, energies.rank, 'freeEnergy: axis');
  return tf.tidy(() => tf.div(ops.logSumExp(tf.mul(energies, -beta), axis, keepDims), -beta));
}
