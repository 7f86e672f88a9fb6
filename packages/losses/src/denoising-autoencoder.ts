import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertFunction, type EnergyFn } from './checks.js';
import {
  type DenoisingLoss,
  type DenoisingOptions,
  denoisingLoss,
  rowSum,
} from './denoising-score-matching.js';

/** A reconstruction model r: [n, ...] → [n, ...] (a denoising autoencoder). */
export type ReconstructFn = (x: tf.Tensor) => tf.Tensor;

function reconstructChecked(reconstruct: ReconstructFn, x: tf.Tensor, where: string): tf.Tensor {
  const r = reconstruct(x);
  if (!(r instanceof tf.Tensor) || !tf.util.arraysEqual(r.shape, x.shape)) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: the reconstruction must have the shape of its input ${validate.shapeString(x.shape)}, received ${r instanceof tf.Tensor ? validate.shapeString(r.shape) : typeof r}.`,
    );
  }
  return r;
}

/**
 * The energy a denoising autoencoder defines: E(x) = ‖r(x) − x‖², summed over the features.
 * Near the data manifold r(x) ≈ x; away from it the energy grows about quadratically with the
 * distance (the lecture's picture), which makes it usable with samplers and CD.
 */
export function reconstructionEnergy(reconstruct: ReconstructFn): EnergyFn {
  assertFunction(reconstruct, 'reconstructionEnergy: reconstruct');
  return (x) =>
    tf.tidy(() =>
      rowSum(tf.square(tf.sub(reconstructChecked(reconstruct, x, 'reconstructionEnergy'), x))),
    );
}

/**
 * The denoising-autoencoder loss (Vincent et al. 2008): ℓ = ‖r(x + σε) − x‖². With
 * s(x̃) = (r(x̃) − x̃)/σ² it equals 2σ⁴ times the denoising score-matching loss (Vincent 2011).
 */
export function denoisingAutoencoderLoss(options: DenoisingOptions): DenoisingLoss<ReconstructFn> {
  return denoisingLoss<ReconstructFn>(
    'denoisingAutoencoderLoss',
    options,
    (reconstruct, data, noisy) =>
      rowSum(
        tf.square(tf.sub(reconstructChecked(reconstruct, noisy, 'denoisingAutoencoderLoss'), data)),
      ),
  );
}
