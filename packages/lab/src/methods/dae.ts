import { reconstructionEnergy } from '@ebmjs/losses';
import { DenoisingAutoencoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import { energiesAt, logPartition } from '../grid.js';
import type { LabMethod } from './types.js';

/** Corruption σ of the denoising autoencoder. */
export const DAE_SIGMA = 0.3;
/** Training points used to fit the temperature. */
const CALIBRATION_POINTS = 4000;

/**
 * Fits β of exp(−β·E) on training points: a 1-D search of the training NLL over β, which a
 * reconstruction error leaves undetermined (‖r(y) − y‖² has no natural temperature).
 */
export function fitTemperature(
  gridEnergies: Float32Array,
  trainEnergies: Float32Array,
  logCellArea: number,
): number {
  let meanTrain = 0;
  for (const e of trainEnergies) meanTrain += e / trainEnergies.length;
  let best = { beta: 1, nll: Number.POSITIVE_INFINITY };
  const scaled = new Float32Array(gridEnergies.length);
  // log-spaced from 1e-2 to 1e4, then a finer pass around the best.
  const search = (lo: number, hi: number, count: number) => {
    for (let i = 0; i <= count; i++) {
      const beta = 10 ** (lo + ((hi - lo) * i) / count);
      for (let k = 0; k < scaled.length; k++) scaled[k] = beta * gridEnergies[k]!;
      const nll = beta * meanTrain + logPartition(scaled, logCellArea);
      if (nll < best.nll) best = { beta, nll };
    }
  };
  search(-2, 4, 48);
  const c = Math.log10(best.beta);
  search(c - 0.125, c + 0.125, 20);
  return best.beta;
}

/**
 * A denoising autoencoder (Vincent et al. 2008) trained to undo N(0, σ²I) corruption; its
 * energy is the reconstruction error E(y) = β‖r(y) − y‖² (LeCun's lecture), with β fitted on
 * the training data after training because the loss does not fix it.
 */
export const denoisingAutoencoderMethod: LabMethod = {
  name: 'dae',
  title: 'DAE (β fitted)',
  create({ hiddenUnits, seed }) {
    const dae = DenoisingAutoencoder.mlp({
      inputDim: 2,
      hiddenUnits: [...hiddenUnits],
      latentDim: hiddenUnits[hiddenUnits.length - 1] ?? 64,
      noise: { type: 'gaussian', std: DAE_SIGMA },
      seed,
      name: `lab_dae_${seed}`,
    });
    const raw = reconstructionEnergy((y) => dae.reconstruct(y));
    let beta = 1;
    return {
      get settings() {
        return `MLP autoencoder, Gaussian corruption σ=${DAE_SIGMA}, E = β‖r(y) − y‖², β = ${beta.toPrecision(3)} fitted on training NLL`;
      },
      loss: (batch, rng) => dae.loss(batch, rng.seed()),
      variables: () => dae.trainableVariables,
      energy: (y) => tf.tidy(() => tf.mul(raw(y), beta)),
      calibrate(train, grid) {
        const m = Math.min(CALIBRATION_POINTS, train.length / 2);
        beta = fitTemperature(
          energiesAt(raw, grid.points),
          energiesAt(raw, train.subarray(0, 2 * m)),
          grid.logCellArea,
        );
      },
      dispose: () => dae.dispose(),
    };
  },
};
