import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { assertFloatTensor, assertNumber } from '../validate.js';

/** Checks that `x` is a float32 [chains, units] tensor of integers in [0, numStates). */
export function assertDiscreteStates(
  x: unknown,
  numStates: number,
  where: string,
): asserts x is tf.Tensor2D {
  assertFloatTensor(x, 2, `${where}: init`);
  assertNumber(numStates, `${where}: numStates`, { min: 2, integer: true });
  const bad = tf.tidy(() => {
    const outOfRange = tf.logicalOr(tf.less(x, 0), tf.greater(x, numStates - 1));
    const fractional = tf.notEqual(x, tf.round(x));
    return tf.any(tf.logicalOr(outOfRange, fractional));
  });
  const invalid = bad.dataSync()[0] === 1;
  bad.dispose();
  if (invalid) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: init must hold integer states in [0, ${numStates - 1}] (as float32), received other values.`,
    );
  }
}
