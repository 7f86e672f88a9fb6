import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { Rng } from '../random.js';
import { untaped } from '../tape.js';
import { assertNumber } from '../validate.js';
import { assertDiscreteStates } from './discrete.js';
import { collectEnergies, evalEnergy, type SamplerResult, type StateEnergy } from './energy-fn.js';

export interface MetropolisHastingsOptions {
  /** Proposals per chain. Default 100. */
  steps?: number;
  /** Values each unit takes: 0 … numStates − 1. Default 2 (binary). */
  numStates?: number;
  seed?: number;
}

export interface MetropolisHastingsResult extends SamplerResult {
  /** Fraction of accepted proposals over all chains and steps. */
  acceptanceRate: number;
}

/**
 * Metropolis-Hastings over discrete states x ∈ {0..K−1}^d, batched over chains. Each step
 * proposes, per chain, a uniformly chosen unit moved to a uniformly chosen other value (a
 * symmetric proposal) and accepts with probability min(1, exp(E(x) − E(x′))).
 */
export function metropolisHastings(
  energyFn: StateEnergy,
  init: tf.Tensor,
  options: MetropolisHastingsOptions = {},
): MetropolisHastingsResult {
  // Samples are constants to any enclosing gradient (a loss drawing negatives).
  return untaped(() => sampleMetropolisHastings(energyFn, init, options));
}

function sampleMetropolisHastings(
  energyFn: StateEnergy,
  init: tf.Tensor,
  options: MetropolisHastingsOptions = {},
): MetropolisHastingsResult {
  const { steps = 100, numStates = 2 } = options;
  if (typeof energyFn !== 'function') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `metropolisHastings: energyFn must be a function, received ${typeof energyFn}.`,
    );
  }
  assertDiscreteStates(init, numStates, 'metropolisHastings');
  assertNumber(steps, 'metropolisHastings: steps', { min: 0, integer: true });
  const rng = new Rng(options.seed);
  const [chains, d] = init.shape as [number, number];
  // The start's energy first: if the energy function throws (say, a wrong shape), nothing
  // of ours exists yet to free.
  let energy = tf.tidy(() => evalEnergy(energyFn, init, 'metropolisHastings'));
  let x = tf.clone(init) as tf.Tensor2D;
  const recorded: tf.Scalar[] = [tf.mean(energy) as tf.Scalar];
  const accepted: tf.Scalar[] = [];
  try {
    for (let t = 0; t < steps; t++) {
      const sites = new Int32Array(chains);
      const shifts = new Float32Array(chains);
      for (let c = 0; c < chains; c++) {
        sites[c] = rng.int(d);
        shifts[c] = 1 + rng.int(numStates - 1);
      }
      const [nextX, nextE, acc] = tf.tidy(() => {
        const unit = tf.cast(tf.oneHot(tf.tensor1d(sites, 'int32'), d), 'float32');
        // (x + shift) mod K at the chosen unit: every other value equally likely.
        const moved = tf.mod(tf.add(x, tf.mul(unit, tf.tensor2d(shifts, [chains, 1]))), numStates);
        const proposal = tf.add(tf.mul(x, tf.sub(1, unit)), tf.mul(moved, unit));
        const e = evalEnergy(energyFn, proposal, 'metropolisHastings');
        const logU = tf.log(tf.randomUniform([chains], 1e-12, 1, 'float32', rng.seed()));
        const accept = tf.lessEqual(logU, tf.sub(energy, e));
        const keep = tf.cast(accept, 'float32');
        const x2 = tf.where(tf.reshape(accept, [chains, 1]), proposal, x) as tf.Tensor2D;
        const e2 = tf.where(accept, e, energy) as tf.Tensor1D;
        return [x2, e2, tf.mean(keep) as tf.Scalar] as const;
      });
      x.dispose();
      energy.dispose();
      x = nextX;
      energy = nextE;
      accepted.push(acc);
      recorded.push(tf.mean(energy) as tf.Scalar);
    }
  } catch (error) {
    x.dispose();
    energy.dispose();
    for (const r of [...recorded, ...accepted]) r.dispose();
    throw error;
  }
  energy.dispose();
  const rates = collectEnergies(accepted);
  const acceptanceRate = rates.length === 0 ? 0 : rates.reduce((a, b) => a + b, 0) / rates.length;
  return { samples: x, energies: collectEnergies(recorded), acceptanceRate };
}
