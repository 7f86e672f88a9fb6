import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { Rng } from '../random.js';
import { guardGradientTape, untaped } from '../tape.js';
import { assertFloatTensor, assertNumber } from '../validate.js';
import { collectEnergies, evalEnergy, type SamplerResult, type StateEnergy } from './energy-fn.js';

export interface LangevinOptions {
  /** Number of updates. Default 20. */
  steps?: number;
  /** Step size η of x ← x − η ∇E(x) + σ ξ. Default 0.01. */
  stepSize?: number;
  /**
   * Noise standard deviation σ. Default √(2η), for which the chain samples p(x) ∝ exp(−E(x))
   * as η → 0. JEM and IGEBM use a much smaller σ (for example 0.01 with η = 1).
   */
  noiseScale?: number;
  /** Clamp every gradient component to [−gradClip, gradClip] (IGEBM). Default: no clipping. */
  gradClip?: number;
  /** Clamp the states to this data range after each step, for example [0, 1] for images. */
  clamp?: readonly [number, number];
  seed?: number;
}

/**
 * Stochastic gradient Langevin dynamics on an energy over states. `init` is [n, ...] with
 * the batch first; `energyFn` maps states to one energy per state. The returned samples are
 * detached from any gradient tape and owned by the caller; `energies[t]` is the mean energy
 * after t steps (t = 0 is the start).
 */
export function langevin(
  energyFn: StateEnergy,
  init: tf.Tensor,
  options: LangevinOptions = {},
): SamplerResult {
  // Samples are constants to any enclosing gradient (a loss drawing negatives).
  return untaped(() => sampleLangevin(energyFn, init, options));
}

function sampleLangevin(
  energyFn: StateEnergy,
  init: tf.Tensor,
  options: LangevinOptions = {},
): SamplerResult {
  const { steps = 20, stepSize = 0.01 } = options;
  if (typeof energyFn !== 'function') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `langevin: energyFn must be a function, received ${typeof energyFn}.`,
    );
  }
  assertFloatTensor(init, [1, 2, 3, 4, 5], 'langevin: init');
  assertNumber(steps, 'langevin: steps', { min: 0, integer: true });
  assertNumber(stepSize, 'langevin: stepSize', { min: 0, exclusiveMin: true });
  const noiseScale = options.noiseScale ?? Math.sqrt(2 * stepSize);
  assertNumber(noiseScale, 'langevin: noiseScale', { min: 0 });
  if (options.gradClip !== undefined) {
    assertNumber(options.gradClip, 'langevin: gradClip', { min: 0, exclusiveMin: true });
  }
  const clamp = options.clamp;
  if (clamp !== undefined && !(clamp.length === 2 && clamp[0] < clamp[1])) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `langevin: clamp must be [min, max] with min < max, received ${JSON.stringify(clamp)}.`,
    );
  }
  const rng = new Rng(options.seed);
  const valueAndGrad = tf.valueAndGrad((x: tf.Tensor) =>
    tf.mean(evalEnergy(energyFn, x, 'langevin')),
  );
  const n = init.shape[0]!;
  const recorded: tf.Scalar[] = [];
  let x = tf.tidy(() => (clamp ? tf.clipByValue(init, clamp[0], clamp[1]) : tf.clone(init)));
  try {
    for (let t = 0; t < steps; t++) {
      const next = tf.tidy(() => {
        const { value, grad } = guardGradientTape(() => valueAndGrad(x));
        recorded.push(tf.keep(value as tf.Scalar));
        // ∇ of the mean is ∇E / n per state; undo the 1/n to get each state's own gradient.
        let g = tf.mul(grad, n);
        if (options.gradClip !== undefined)
          g = tf.clipByValue(g, -options.gradClip, options.gradClip);
        let y = tf.sub(x, tf.mul(g, stepSize));
        if (noiseScale > 0)
          y = tf.add(y, tf.randomNormal(x.shape, 0, noiseScale, 'float32', rng.seed()));
        return clamp ? tf.clipByValue(y, clamp[0], clamp[1]) : y;
      });
      x.dispose();
      x = next;
    }
    recorded.push(tf.tidy(() => tf.mean(evalEnergy(energyFn, x, 'langevin')) as tf.Scalar));
  } catch (error) {
    x.dispose();
    for (const s of recorded) s.dispose();
    throw error;
  }
  return { samples: x, energies: collectEnergies(recorded) };
}
