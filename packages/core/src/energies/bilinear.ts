import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { assertNumber, shapeString } from '../validate.js';
import { defineEnergy, type Energy, type EnergyOptions } from './energy.js';

export interface BilinearEnergyOptions extends EnergyOptions {
  /** Feature dimension of x. */
  xDim: number;
  /** Feature dimension of y (default: xDim). */
  yDim?: number;
  /**
   * Initial W: 'identity' (square only; starts as the dot-product energy), 'normal'
   * (N(0, 1/xDim), seeded) or an explicit [xDim, yDim] tensor, which is copied.
   */
  init?: 'identity' | 'normal' | tf.Tensor2D;
  seed?: number;
  /** Whether W is trainable. Default true. */
  trainable?: boolean;
}

/** F(x, y) = −xᵀ W y / τ with a learnable matrix W: [xDim, yDim]. */
export function bilinear(
  options: BilinearEnergyOptions,
): Energy & { readonly weight: tf.Variable } {
  const { xDim, trainable = true } = options;
  const yDim = options.yDim ?? xDim;
  assertNumber(xDim, 'energies.bilinear: xDim', { min: 1, integer: true });
  assertNumber(yDim, 'energies.bilinear: yDim', { min: 1, integer: true });
  const init = options.init ?? (xDim === yDim ? 'identity' : 'normal');
  let initial: tf.Tensor2D;
  if (init === 'identity') {
    if (xDim !== yDim) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `energies.bilinear: init 'identity' needs xDim === yDim, received ${xDim} and ${yDim}.`,
      );
    }
    initial = tf.eye(xDim);
  } else if (init === 'normal') {
    initial = tf.randomNormal([xDim, yDim], 0, 1 / Math.sqrt(xDim), 'float32', options.seed);
  } else {
    if (
      !(init instanceof tf.Tensor) ||
      init.rank !== 2 ||
      init.shape[0] !== xDim ||
      init.shape[1] !== yDim
    ) {
      const got = init instanceof tf.Tensor ? shapeString(init.shape) : typeof init;
      throw new EbmError(
        'SHAPE_MISMATCH',
        `energies.bilinear: init must be a [${xDim}, ${yDim}] tensor, received ${got}.`,
      );
    }
    initial = init.clone();
  }
  const weight = tf.variable(initial, trainable, undefined, 'float32');
  initial.dispose();
  const checkDims = (x: tf.Tensor, y: tf.Tensor) => {
    if (x.shape[1] !== xDim || y.shape[1] !== yDim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `energies.bilinear expects x: [n, ${xDim}] and y: [m, ${yDim}], received ${shapeString(x.shape)} and ${shapeString(y.shape)}.`,
        { expected: [xDim, yDim], received: [x.shape[1], y.shape[1]] },
      );
    }
  };
  const energy = defineEnergy('bilinear', options, {
    sameDim: false,
    checkDims,
    variables: [weight],
    paired: (x, y) => tf.neg(tf.sum(tf.mul(tf.matMul(x, weight), y), 1)),
    pairwise: (x, y) => tf.neg(tf.matMul(tf.matMul(x, weight), y, false, true)),
  });
  return Object.assign(energy, { weight });
}
