import { resolveOptions } from '@ebmjs/contract';
import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertFloatInput } from './checks.js';

/** A noise distribution for NCE: it samples, and it scores its samples and the data. */
export interface NoiseDistribution {
  readonly name: string;
  /** n samples, [n, ...shape]. The caller owns them. */
  sample(n: number, seed?: number): tf.Tensor;
  /** log p_n(x) per row, [n]. */
  logProb(x: tf.Tensor): tf.Tensor1D;
}

function assertDim(dim: unknown, what: string): asserts dim is number {
  validate.assertNumber(dim, what, { min: 1, integer: true });
}

function perFeature(value: number | readonly number[], dim: number, what: string): Float32Array {
  const values = typeof value === 'number' ? new Array<number>(dim).fill(value) : [...value];
  if (values.length !== dim || !values.every(Number.isFinite)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be a finite number or ${dim} finite numbers, received ${JSON.stringify(value)}.`,
    );
  }
  return Float32Array.from(values);
}

export interface GaussianNoiseOptions {
  /** Feature dimension d of the [n, d] samples. */
  dim: number;
  /** Mean, one number or d of them. Default 0. */
  mean?: number | readonly number[];
  /** Standard deviation > 0, one number or d of them. Default 1. */
  std?: number | readonly number[];
}

/** A diagonal Gaussian over [n, d]: match its mean and std to the data's for efficient NCE. */
export function gaussian(options: GaussianNoiseOptions): NoiseDistribution {
  const o = resolveOptions('noiseDistributions.gaussian', options, {
    dim: undefined,
    mean: 0,
    std: 1,
  });
  const { dim } = o;
  assertDim(dim, 'noiseDistributions.gaussian: dim');
  const mean = perFeature(o.mean, dim, 'noiseDistributions.gaussian: mean');
  const std = perFeature(o.std, dim, 'noiseDistributions.gaussian: std');
  if (std.some((s) => !(s > 0)))
    throw new EbmError('INVALID_ARGUMENT', 'noiseDistributions.gaussian: std must be > 0.');
  const logNorm = std.reduce((acc, s) => acc + Math.log(s) + 0.5 * Math.log(2 * Math.PI), 0);
  return {
    name: 'gaussian',
    sample(n, seed) {
      validate.assertNumber(n, 'noiseDistributions.gaussian.sample: n', { min: 1, integer: true });
      return tf.tidy(() =>
        tf.add(
          tf.mul(tf.randomNormal([n, dim], 0, 1, 'float32', seed), tf.tensor1d(std)),
          tf.tensor1d(mean),
        ),
      );
    },
    logProb(x) {
      assertFloatInput(x, 2, 'noiseDistributions.gaussian.logProb: x');
      if (x.shape[1] !== dim)
        throw new EbmError(
          'SHAPE_MISMATCH',
          `noiseDistributions.gaussian.logProb: x must be [n, ${dim}], received ${validate.shapeString(x.shape)}.`,
        );
      return tf.tidy(() => {
        const z = tf.div(tf.sub(x, tf.tensor1d(mean)), tf.tensor1d(std));
        return tf.sub(tf.mul(tf.sum(tf.square(z), 1), -0.5), logNorm) as tf.Tensor1D;
      });
    },
  };
}

export interface BernoulliNoiseOptions {
  dim: number;
  /** P(x_i = 1) in (0, 1), one number or d of them (for example the data's means). Default 0.5. */
  p?: number | readonly number[];
}

/** Independent bits over [n, d] of 0/1. */
export function bernoulli(options: BernoulliNoiseOptions): NoiseDistribution {
  const o = resolveOptions('noiseDistributions.bernoulli', options, { dim: undefined, p: 0.5 });
  const { dim } = o;
  assertDim(dim, 'noiseDistributions.bernoulli: dim');
  const p = perFeature(o.p, dim, 'noiseDistributions.bernoulli: p');
  if (p.some((v) => !(v > 0 && v < 1)))
    throw new EbmError('INVALID_ARGUMENT', 'noiseDistributions.bernoulli: p must be in (0, 1).');
  const logP = Float32Array.from(p, Math.log);
  const log1mP = Float32Array.from(p, (v) => Math.log1p(-v));
  return {
    name: 'bernoulli',
    sample(n, seed) {
      validate.assertNumber(n, 'noiseDistributions.bernoulli.sample: n', { min: 1, integer: true });
      return tf.tidy(() =>
        tf.cast(
          tf.less(tf.randomUniform([n, dim], 0, 1, 'float32', seed), tf.tensor1d(p)),
          'float32',
        ),
      );
    },
    logProb(x) {
      assertFloatInput(x, 2, 'noiseDistributions.bernoulli.logProb: x');
      if (x.shape[1] !== dim)
        throw new EbmError(
          'SHAPE_MISMATCH',
          `noiseDistributions.bernoulli.logProb: x must be [n, ${dim}], received ${validate.shapeString(x.shape)}.`,
        );
      return tf.tidy(
        () =>
          tf.sum(
            tf.add(tf.mul(x, tf.tensor1d(logP)), tf.mul(tf.sub(1, x), tf.tensor1d(log1mP))),
            1,
          ) as tf.Tensor1D,
      );
    },
  };
}
