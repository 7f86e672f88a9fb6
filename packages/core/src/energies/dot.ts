import * as tf from '@tensorflow/tfjs-core';
import { defineEnergy, type Energy, type EnergyOptions } from './energy.js';

/** F(x, y) = −⟨x, y⟩ / τ. */
export function dot(options: EnergyOptions = {}): Energy {
  return defineEnergy('dot', options, {
    sameDim: true,
    paired: (x, y) => tf.neg(tf.sum(tf.mul(x, y), 1)),
    pairwise: (x, y) => tf.neg(tf.matMul(x, y, false, true)),
  });
}
