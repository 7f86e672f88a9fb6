import { resolveOptions } from '@ebmjs/contract';
import { EbmError, Rng, stopGradient, untaped, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  assertAtLeast,
  assertFloatInput,
  assertFunction,
  assertSamplesLike,
  type EnergyFn,
  evalEnergies,
} from './checks.js';
import type { NoiseDistribution } from './noise.js';

export interface NceOptions {
  /** The noise distribution p_n: it samples and it scores. */
  noise: NoiseDistribution;
  /**
   * The learnable log-partition c in log p_m(x) = −E(x) − c: a scalar tf.Variable you own, or
   * the initial value of one the loss creates (exposed as `loss.logZ`). Default 0.
   */
  logZ?: number | tf.Variable;
  /** ν = noise samples per data sample when the loss draws them. Default 1. */
  noiseRatio?: number;
  seed?: number;
}

export interface NceLoss {
  /** data [n, ...]; noiseSamples [m, ...] (drawn from `noise` when omitted, ν = m / n). */
  (energyFn: EnergyFn, data: tf.Tensor, noiseSamples?: tf.Tensor): tf.Scalar;
  /** The log-partition variable; an optimizer updates it with the energy's weights. */
  readonly logZ: tf.Variable;
  /** Frees `logZ` if the loss created it. */
  dispose(): void;
}

/**
 * Noise-contrastive estimation (Gutmann & Hyvärinen 2010, 2012): logistic regression of data
 * against ν-times more noise with the log-ratio G(x) = −E(x) − c − log p_n(x):
 *   L = mean_data softplus(−(G − log ν)) + ν · mean_noise softplus(G − log ν),
 * i.e. −(1/T_d)[Σ log h(x) + Σ log(1 − h(y))] with h = σ(G − log ν). Its minimiser makes
 * exp(−E − c) a normalised density, so c learns the log-partition.
 */
export function nce(options: NceOptions): NceLoss {
  const o = resolveOptions('nce', options, {
    noise: undefined,
    logZ: undefined,
    noiseRatio: 1,
    seed: 0,
  });
  const { noise, noiseRatio } = o;
  if (
    noise === undefined ||
    typeof noise.sample !== 'function' ||
    typeof noise.logProb !== 'function'
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      'nce: noise must be a noise distribution with sample(n, seed) and logProb(x), such as noiseDistributions.gaussian({ dim }).',
    );
  }
  validate.assertNumber(noiseRatio, 'nce: noiseRatio', { min: 0, exclusiveMin: true });
  const given = o.logZ;
  let logZ: tf.Variable;
  if (given instanceof tf.Variable) {
    if (given.rank !== 0 || given.dtype !== 'float32') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `nce: logZ must be a float32 scalar variable, received ${given.dtype} ${validate.shapeString(given.shape)}.`,
      );
    }
    logZ = given;
  } else {
    validate.assertNumber(given ?? 0, 'nce: logZ');
    logZ = tf.variable(tf.scalar(given ?? 0), true, undefined, 'float32');
  }
  const owned = !(given instanceof tf.Variable);
  const rng = new Rng(o.seed);

  const loss = (energyFn: EnergyFn, data: tf.Tensor, noiseSamples?: tf.Tensor): tf.Scalar => {
    assertFunction(energyFn, 'nce: energyFn');
    assertFloatInput(data, [1, 2, 3, 4, 5], 'nce: data');
    const n = data.shape[0]!;
    assertAtLeast(n, 1, 'nce: batch size', 'the batch is empty.');
    if (noiseSamples !== undefined) {
      assertSamplesLike(
        noiseSamples,
        data,
        'nce: noiseSamples',
        'nce: number of noise samples',
        'NCE classifies data against noise.',
      );
    }
    const drawn =
      noiseSamples === undefined
        ? untaped(() => noise.sample(Math.max(1, Math.round(noiseRatio * n)), rng.seed()))
        : undefined;
    try {
      const y = drawn ?? noiseSamples!;
      const logNu = Math.log(y.shape[0]! / n);
      return tf.tidy(() => {
        const g = (x: tf.Tensor) =>
          tf.sub(
            tf.sub(tf.neg(evalEnergies(energyFn, x, 'nce')), logZ),
            stopGradient(noise.logProb(x)),
          );
        const onData = tf.mean(tf.softplus(tf.neg(tf.sub(g(data), logNu))));
        const onNoise = tf.mean(tf.softplus(tf.sub(g(y), logNu)));
        return tf.add(onData, tf.mul(onNoise, Math.exp(logNu))) as tf.Scalar;
      });
    } finally {
      drawn?.dispose();
    }
  };
  return Object.assign(loss, {
    logZ,
    dispose() {
      if (owned && !logZ.isDisposed) logZ.dispose();
    },
  });
}
