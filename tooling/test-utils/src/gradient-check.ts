import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export interface GradientCheckOptions {
  /** Finite-difference step. float32 needs a fairly large one. Default 1e-2. */
  eps?: number;
  /** Tolerance: |analytic − numeric| ≤ atol + rtol·|numeric|. Defaults 2e-3 and 2e-2. */
  atol?: number;
  rtol?: number;
  /** Check at most this many coordinates (evenly spread). Default: all. */
  maxCoordinates?: number;
}

/**
 * Compares tf.grad of a scalar function with central finite differences
 * (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, coordinate by coordinate. Returns the largest absolute error.
 */
export function checkGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  options: GradientCheckOptions = {},
): number {
  const {
    eps = 1e-2,
    atol = 2e-3,
    rtol = 2e-2,
    maxCoordinates = Number.POSITIVE_INFINITY,
  } = options;
  const analytic = tf
    .tidy(() => tf.grad(f)(x))
    .dataSync()
    .slice();
  const base = x.dataSync().slice();
  const size = base.length;
  const stride = Math.max(1, Math.floor(size / Math.min(size, maxCoordinates)));
  let worst = 0;
  for (let i = 0; i < size; i += stride) {
    const evalAt = (delta: number) => {
      const shifted = base.slice();
      shifted[i] = shifted[i]! + delta;
      return tf.tidy(() => f(tf.tensor(shifted, x.shape)).dataSync()[0]!);
    };
    const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
    const err = Math.abs(analytic[i]! - numeric);
    worst = Math.max(worst, err);
    if (!(err <= atol + rtol * Math.abs(numeric))) {
      expect.fail(
        `gradient coordinate ${i}: analytic ${analytic[i]}, finite difference ${numeric} (|diff| ${err})`,
      );
    }
  }
  return worst;
}
