import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { Rng } from '../random.js';
import { untaped } from '../tape.js';
import { assertNumber } from '../validate.js';
import { assertDiscreteStates } from './discrete.js';
import { collectEnergies, evalEnergy, type SamplerResult, type StateEnergy } from './energy-fn.js';

export interface GibbsOptions {
  /** Full sweeps over all units. Default 1. */
  sweeps?: number;
  /** Visit units in index order or in a fresh random order each sweep. Default 'sequential'. */
  order?: 'sequential' | 'random';
  seed?: number;
}

/**
 * Gibbs sampling for any energy over binary states x ∈ {0,1}^d, batched over chains.
 * Each unit is resampled from its exact conditional
 * p(x_i = 1 | x_−i) = σ(E(x_i = 0, x_−i) − E(x_i = 1, x_−i)),
 * which needs only energy evaluations, so it works for Ising models, RBMs' joint energies or
 * any learned binary energy. `init`: [chains, d] of 0/1 as float32.
 */
export function gibbs(
  energyFn: StateEnergy,
  init: tf.Tensor,
  options: GibbsOptions = {},
): SamplerResult {
  // Samples are constants to any enclosing gradient (a loss drawing negatives).
  return untaped(() => sampleGibbs(energyFn, init, options));
}

function sampleGibbs(
  energyFn: StateEnergy,
  init: tf.Tensor,
  options: GibbsOptions = {},
): SamplerResult {
  const { sweeps = 1, order = 'sequential' } = options;
  if (typeof energyFn !== 'function') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `gibbs: energyFn must be a function, received ${typeof energyFn}.`,
    );
  }
  assertDiscreteStates(init, 2, 'gibbs');
  assertNumber(sweeps, 'gibbs: sweeps', { min: 0, integer: true });
  if (order !== 'sequential' && order !== 'random') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `gibbs: order must be 'sequential' or 'random', received ${String(order)}.`,
    );
  }
  const rng = new Rng(options.seed);
  const [chains, d] = init.shape as [number, number];
  const recorded: tf.Scalar[] = [
    tf.tidy(() => tf.mean(evalEnergy(energyFn, init, 'gibbs')) as tf.Scalar),
  ];
  let x = tf.clone(init) as tf.Tensor2D;
  try {
    for (let s = 0; s < sweeps; s++) {
      const units =
        order === 'random' ? rng.permutation(d) : Int32Array.from({ length: d }, (_, i) => i);
      for (const i of units) {
        const next = tf.tidy(() => {
          const unit = tf.cast(tf.oneHot(tf.tensor1d([i], 'int32'), d), 'float32');
          const rest = tf.mul(x, tf.sub(1, unit));
          const e0 = evalEnergy(energyFn, rest, 'gibbs');
          const e1 = evalEnergy(energyFn, tf.add(rest, unit), 'gibbs');
          const p1 = tf.sigmoid(tf.sub(e0, e1));
          const u = tf.randomUniform([chains], 0, 1, 'float32', rng.seed());
          const on = tf.reshape(tf.cast(tf.less(u, p1), 'float32'), [chains, 1]);
          return tf.add(rest, tf.mul(on, unit)) as tf.Tensor2D;
        });
        x.dispose();
        x = next;
      }
      recorded.push(tf.tidy(() => tf.mean(evalEnergy(energyFn, x, 'gibbs')) as tf.Scalar));
    }
  } catch (error) {
    x.dispose();
    for (const r of recorded) r.dispose();
    throw error;
  }
  return { samples: x, energies: collectEnergies(recorded) };
}
