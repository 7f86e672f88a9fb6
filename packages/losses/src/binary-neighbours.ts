import * as tf from '@tensorflow/tfjs-core';
import {
  assertAtLeast,
  assertBinary,
  assertFloatInput,
  assertFunction,
  type EnergyFn,
  evalEnergies,
} from './checks.js';

/** Validates an (energyFn, binary data [n, d]) pair for the single-bit-flip losses. */
export function assertBinaryBatch(
  energyFn: unknown,
  data: unknown,
  where: string,
): asserts data is tf.Tensor2D {
  assertFunction(energyFn, `${where}: energy`);
  assertFloatInput(data, 2, `${where}: data`);
  assertAtLeast(data.shape[0]!, 1, `${where}: batch size`, 'the batch is empty.');
  assertAtLeast(data.shape[1]!, 1, `${where}: number of units`, 'there are no bits to flip.');
  assertBinary(data, `${where}: data`);
}

/**
 * E(x) − E(x̄ʲ) for every data row x [n, d] and each of its d single-bit flips x̄ʲ → [n, d].
 * The energy is evaluated on x and on all n·d flipped states.
 */
export function flipEnergyGaps(energyFn: EnergyFn, x: tf.Tensor2D, where: string): tf.Tensor2D {
  const [n, d] = x.shape;
  const eye = tf.expandDims(tf.eye(d), 0); // [1, d, d]: row j flips bit j
  const rows = tf.expandDims(x, 1); // [n, 1, d]
  const flipped = tf.reshape(tf.sub(tf.add(rows, eye), tf.mul(tf.mul(rows, eye), 2)), [n * d, d]);
  const e = evalEnergies(energyFn, x, where);
  const eFlipped = tf.reshape(evalEnergies(energyFn, flipped, where), [n, d]);
  return tf.sub(tf.expandDims(e, 1), eFlipped) as tf.Tensor2D;
}
