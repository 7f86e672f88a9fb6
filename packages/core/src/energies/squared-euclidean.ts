import * as tf from '@tensorflow/tfjs-core';
import * as ops from '../ops.js';
import { defineEnergy, type Energy, type EnergyOptions } from './energy.js';

/** F(x, y) = ‖x − y‖² / τ. */
export function squaredEuclidean(options: EnergyOptions = {}): Energy {
  return defineEnergy('squaredEuclidean', options, {
    sameDim: true,
    paired: (x, y) => tf.sum(tf.square(tf.sub(x, y)), 1),
    pairwise: (x, y) => ops.squaredDistanceMatrix(x, y),
  });
}
