import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { shapeString } from '../validate.js';

/** An energy over a batch of states: x with batch size n first → one energy per state, [n]. */
export type StateEnergy = (x: tf.Tensor) => tf.Tensor;

/** Evaluates `energyFn` and checks that it returned one float energy per state. */
export function evalEnergy(energyFn: StateEnergy, x: tf.Tensor, where: string): tf.Tensor1D {
  const e = energyFn(x);
  const n = x.shape[0];
  if (!(e instanceof tf.Tensor) || e.rank !== 1 || e.shape[0] !== n) {
    const got = e instanceof tf.Tensor ? shapeString(e.shape) : typeof e;
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: the energy function must return one energy per state, shape [${n}], received ${got}.`,
      { expected: [n], received: e instanceof tf.Tensor ? e.shape : typeof e },
    );
  }
  return e as tf.Tensor1D;
}

/** Stacks recorded mean energies (scalars) into one Float32Array and frees them. */
export function collectEnergies(scalars: tf.Scalar[]): Float32Array {
  if (scalars.length === 0) return new Float32Array(0);
  const stacked = tf.stack(scalars);
  const out = stacked.dataSync() as Float32Array;
  stacked.dispose();
  for (const s of scalars) s.dispose();
  return Float32Array.from(out);
}

/** What every sampler returns: the final states and the mean energy after each step (index 0: the start). */
export interface SamplerResult {
  samples: tf.Tensor;
  energies: Float32Array;
}
