import * as tf from '@tensorflow/tfjs-core';
import * as ops from '../ops.js';
import { defineEnergy, type Energy, type EnergyOptions } from './energy.js';

/**
 * F(x, y) = −cos(x, y) / τ. Scale-invariant, which is why the lecture prefers it to L2 for
 * contrastive embeddings: the network cannot lower the energy by shrinking or stretching vectors.
 */
export function cosine(options: EnergyOptions = {}): Energy {
  return defineEnergy('cosine', options, {
    sameDim: true,
    paired: (x, y) => tf.neg(ops.pairedCosine(x, y)),
    pairwise: (x, y) => tf.neg(ops.cosineSimilarityMatrix(x, y)),
  });
}
