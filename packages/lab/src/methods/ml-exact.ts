import { ops, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { EnergyNet } from '../energy-net.js';
import { makeGrid } from '../grid.js';
import type { LabMethod } from './types.js';

/** Cells per side of the training quadrature grid. */
export const ML_TRAIN_GRID = 48;

/**
 * Maximum likelihood with the exact partition function: in 2-D, Z = ∫ exp(−E) is a sum over a
 * grid, so the loss is the true NLL, mean E(x) + log Σ_cells exp(−E) + log h². The grid is
 * shifted by a random fraction of a cell each step (a randomised midpoint rule), so the net
 * cannot lower its energy between fixed quadrature nodes. `gridSize`: cells per side.
 */
export function maximumLikelihoodMethod(gridSize = ML_TRAIN_GRID): LabMethod {
  validate.assertNumber(gridSize, 'maximumLikelihoodMethod: gridSize', { min: 2, integer: true });
  return {
    name: 'ml',
    title: 'ML (exact Z)',
    create({ box, hiddenUnits, seed }) {
      const net = new EnergyNet({ hiddenUnits, seed });
      const grid = makeGrid(box, gridSize);
      const nodes = tf.tensor2d(grid.points, [grid.n * grid.n, 2]);
      return {
        settings: `${gridSize}×${gridSize} quadrature grid, randomly shifted each step`,
        loss(batch, rng) {
          const shift = tf.tensor1d([(rng.next() - 0.5) * grid.h, (rng.next() - 0.5) * grid.h]);
          const l = tf.tidy(() => {
            const logZ = ops.logSumExp(tf.neg(net.energy(tf.add(nodes, shift))), 0);
            return tf.add(tf.add(tf.mean(net.energy(batch)), logZ), grid.logCellArea) as tf.Scalar;
          });
          shift.dispose();
          return l;
        },
        variables: () => net.trainableVariables,
        energy: net.energy,
        dispose() {
          nodes.dispose();
          net.dispose();
        },
      };
    },
  };
}

export const maximumLikelihood: LabMethod = maximumLikelihoodMethod();
