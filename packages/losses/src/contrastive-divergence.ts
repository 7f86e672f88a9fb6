import {
  EbmError,
  type GibbsOptions,
  gibbs,
  type LangevinOptions,
  langevin,
  type MetropolisHastingsOptions,
  metropolisHastings,
  ReplayBuffer,
  Rng,
  stopGradient,
  untaped,
  validate,
} from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  assertAtLeast,
  assertFloatInput,
  assertFunction,
  assertSamplesLike,
  type EnergyFn,
  evalEnergies,
} from './checks.js';

/** A custom sampler: moves `init` for `steps` steps under `energyFn`; returns new samples it owns. */
export type CdSamplerFn = (
  energyFn: EnergyFn,
  init: tf.Tensor,
  options: { steps: number; seed: number },
) => { samples: tf.Tensor };

export interface ContrastiveDivergenceOptions {
  /**
   * Which of core's samplers draws the negatives: 'langevin' (default, continuous data),
   * 'gibbs' or 'metropolisHastings' (binary/discrete data), or your own function.
   */
  sampler?: 'langevin' | 'gibbs' | 'metropolisHastings' | CdSamplerFn;
  /** Sampler steps per call: Langevin steps, Gibbs sweeps, MH proposals. Default 1 for Gibbs (CD-1), else 20. */
  k?: number;
  /**
   * Persistent contrastive divergence (Tieleman 2008): chains start from, and are written
   * back to, this ReplayBuffer instead of starting at the data (CD-k). Default: off.
   */
  persistent?: ReplayBuffer | false;
  /** Number of chains drawn from the buffer per call (PCD). Default: the data batch size. */
  chains?: number;
  /** α of the penalty α · (mean E(data)² + mean E(samples)²) that JEM and IGEBM use. Default 0. */
  energyL2?: number;
  /** Passed to the sampler (for example { stepSize, noiseScale, clamp } for Langevin). */
  samplerOptions?: Omit<LangevinOptions, 'steps' | 'seed'> &
    Omit<GibbsOptions, 'sweeps' | 'seed'> &
    Omit<MetropolisHastingsOptions, 'steps' | 'seed'>;
  /** Seed of the per-call sampler seeds. */
  seed?: number;
}

/**
 * (energyFn, data [n, ...], negatives?) → loss. Without `negatives` the sampler draws them;
 * pass your own (for example from `loss.sample`) to split sampling from the gradient step.
 */
export interface ContrastiveDivergenceLoss {
  (energyFn: EnergyFn, data: tf.Tensor, negatives?: tf.Tensor): tf.Scalar;
  /** Draws negatives as the loss would (and moves the persistent chains); the caller owns them. */
  sample(energyFn: EnergyFn, data: tf.Tensor): tf.Tensor;
}

/**
 * Contrastive divergence (Hinton 2002) and its persistent form:
 *   L = mean E(data) − mean E(x⁻) + α (mean E(data)² + mean E(x⁻)²),
 * whose gradient is the maximum-likelihood gradient with the model expectation replaced by
 * samples x⁻. The samples are drawn with the gradient tape paused and are detached, so the
 * loss is differentiated only through E, never through the sampler.
 */
export function contrastiveDivergence(
  options: ContrastiveDivergenceOptions = {},
): ContrastiveDivergenceLoss {
  const { sampler = 'langevin', energyL2 = 0, persistent = false, samplerOptions = {} } = options;
  const k = options.k ?? (sampler === 'gibbs' ? 1 : 20);
  validate.assertNumber(k, 'contrastiveDivergence: k', { min: 1, integer: true });
  validate.assertNumber(energyL2, 'contrastiveDivergence: energyL2', { min: 0 });
  if (
    typeof sampler !== 'function' &&
    sampler !== 'langevin' &&
    sampler !== 'gibbs' &&
    sampler !== 'metropolisHastings'
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `contrastiveDivergence: sampler must be 'langevin', 'gibbs', 'metropolisHastings' or a function, received ${String(sampler)}.`,
    );
  }
  if (persistent !== false && !(persistent instanceof ReplayBuffer)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      'contrastiveDivergence: persistent must be a ReplayBuffer or false.',
    );
  }
  if (options.chains !== undefined)
    validate.assertNumber(options.chains, 'contrastiveDivergence: chains', {
      min: 1,
      integer: true,
    });
  const rng = new Rng(options.seed ?? 0);

  const run = (energyFn: EnergyFn, init: tf.Tensor): tf.Tensor => {
    const seed = rng.seed();
    if (typeof sampler === 'function') return sampler(energyFn, init, { steps: k, seed }).samples;
    if (sampler === 'gibbs')
      return gibbs(energyFn, init, { ...samplerOptions, sweeps: k, seed }).samples;
    if (sampler === 'metropolisHastings')
      return metropolisHastings(energyFn, init, { ...samplerOptions, steps: k, seed }).samples;
    return langevin(energyFn, init, { ...samplerOptions, steps: k, seed }).samples;
  };

  const checkData: (energyFn: unknown, data: unknown) => asserts data is tf.Tensor = (
    energyFn,
    data,
  ) => {
    assertFunction(energyFn, 'contrastiveDivergence: energyFn');
    assertFloatInput(data, [1, 2, 3, 4, 5], 'contrastiveDivergence: data');
    assertAtLeast(data.shape[0]!, 1, 'contrastiveDivergence: batch size', 'the batch is empty.');
    if (persistent !== false) {
      const expected = [data.shape[0]!, ...persistent.sampleShape];
      if (!tf.util.arraysEqual(data.shape.slice(1), [...persistent.sampleShape])) {
        throw new EbmError(
          'SHAPE_MISMATCH',
          `contrastiveDivergence: data rows must match the replay buffer's sampleShape, expected ${validate.shapeString(expected)}, received ${validate.shapeString(data.shape)}.`,
          { expected, received: data.shape },
        );
      }
    }
  };

  const sample = (energyFn: EnergyFn, data: tf.Tensor): tf.Tensor =>
    // Paused tape: the chain's own tf.grad calls run, but nothing here is recorded for the
    // caller's gradient (core's samplers otherwise leave their ops on an enclosing tape).
    untaped(() => {
      if (persistent === false) return run(energyFn, data);
      const drawn = persistent.sample(options.chains ?? data.shape[0]!);
      try {
        const moved = run(energyFn, drawn.samples);
        persistent.update(drawn.indices, moved);
        return moved;
      } finally {
        drawn.samples.dispose();
      }
    });

  const loss = (energyFn: EnergyFn, data: tf.Tensor, negatives?: tf.Tensor): tf.Scalar => {
    checkData(energyFn, data);
    if (negatives !== undefined) {
      assertSamplesLike(
        negatives,
        data,
        'contrastiveDivergence: negatives',
        'contrastiveDivergence: number of negatives',
        'the loss pushes up the energy of negatives.',
      );
    }
    const drawn = negatives === undefined ? sample(energyFn, data) : undefined;
    try {
      return tf.tidy(() => {
        const ePos = evalEnergies(energyFn, data, 'contrastiveDivergence');
        const eNeg = evalEnergies(
          energyFn,
          stopGradient(drawn ?? negatives!),
          'contrastiveDivergence',
        );
        let l = tf.sub(tf.mean(ePos), tf.mean(eNeg));
        if (energyL2 > 0)
          l = tf.add(
            l,
            tf.mul(tf.add(tf.mean(tf.square(ePos)), tf.mean(tf.square(eNeg))), energyL2),
          );
        return l as tf.Scalar;
      });
    } finally {
      drawn?.dispose();
    }
  };
  return Object.assign(loss, {
    sample(energyFn: EnergyFn, data: tf.Tensor) {
      checkData(energyFn, data);
      return sample(energyFn, data);
    },
  });
}
