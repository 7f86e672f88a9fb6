import { resolveOptions } from '@ebmjs/contract';
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
   * Persistent contrastive divergence (Tieleman 2008): the chains carry over between calls
   * instead of starting at the data (CD-k). `true`: the loss keeps `chains` chains of its own,
   * started from the first data batch (its rows repeated if `chains` is larger) and moved k
   * steps on every call; they are never restarted unless `restartProb` asks for it. A
   * ReplayBuffer: chains are drawn from it and written back (restarts follow its
   * `reinitProb`, default 0). Default: off.
   */
  persistent?: ReplayBuffer | boolean;
  /**
   * With `persistent: true`: probability that a chain restarts from noise when drawn
   * (JEM-style restarts, Du & Mordatch 2019 and Grathwohl et al. 2020 use 0.05), which is no
   * longer PCD. The noise is uniform on `samplerOptions.clamp` (else [−1, 1]) for Langevin and
   * custom samplers, uniform over the states for Gibbs and Metropolis-Hastings. For any other
   * restart distribution pass your own ReplayBuffer with `reinitProb` and `init`. Default 0.
   */
  restartProb?: number;
  /**
   * Number of chains drawn per call (PCD); with `persistent: true` also the number of chains
   * kept. Default: the data batch size (of the first call, for `persistent: true`).
   */
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
  /**
   * The persistent chains (for checkpoints: `state()` / `restore()`): the ReplayBuffer passed
   * as `persistent`, the loss's own once `persistent: true` has seen its first batch, else
   * undefined.
   */
  readonly buffer: ReplayBuffer | undefined;
}

/**
 * Contrastive divergence (Hinton 2002) and its persistent form:
 *   L = mean E(data) − mean E(x⁻) + α (mean E(data)² + mean E(x⁻)²),
 * whose gradient is the maximum-likelihood gradient with the model expectation replaced by
 * samples x⁻. The samples are drawn with the gradient tape paused and are detached, so the
 * loss is differentiated only through E, never through the sampler.
 */
export function contrastiveDivergence(
  given: ContrastiveDivergenceOptions = {},
): ContrastiveDivergenceLoss {
  const options = resolveOptions('contrastiveDivergence', given, {
    sampler: 'langevin',
    k: undefined,
    persistent: false,
    // No default here: setting it at all needs persistent: true (checked below).
    restartProb: undefined,
    chains: undefined,
    energyL2: 0,
    samplerOptions: {},
    seed: 0,
  });
  const { sampler, energyL2, persistent, samplerOptions } = options;
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
  if (typeof persistent !== 'boolean' && !(persistent instanceof ReplayBuffer)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `contrastiveDivergence: persistent must be true, false or a ReplayBuffer, received ${String(persistent)}.`,
    );
  }
  const restartProb = options.restartProb ?? 0;
  validate.assertNumber(restartProb, 'contrastiveDivergence: restartProb', { min: 0, max: 1 });
  if (options.restartProb !== undefined && persistent !== true) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      persistent === false
        ? 'contrastiveDivergence: restartProb needs persistent: true (CD-k chains start at the data every call).'
        : "contrastiveDivergence: restartProb applies to persistent: true; a ReplayBuffer's own reinitProb sets its restarts.",
    );
  }
  if (options.chains !== undefined)
    validate.assertNumber(options.chains, 'contrastiveDivergence: chains', {
      min: 1,
      integer: true,
    });
  const rng = new Rng(options.seed);
  // persistent: true builds its buffer on the first batch, which fixes the chains' shape.
  let buffer: ReplayBuffer | undefined =
    persistent instanceof ReplayBuffer ? persistent : undefined;
  const ownBuffer = (data: tf.Tensor): ReplayBuffer => {
    const sampleShape = data.shape.slice(1);
    const rowSize = sampleShape.reduce((a, b) => a * b, 1);
    const rows = data.shape[0]!;
    const values = data.dataSync();
    const noise = restartNoise(sampler, samplerOptions);
    let started = false;
    return new ReplayBuffer({
      capacity: options.chains ?? rows,
      sampleShape,
      reinitProb: restartProb,
      // The buffer fills itself once at construction: that fill copies the data batch; every
      // later call is a restart and draws noise.
      init: (out, r) => {
        if (started) return noise(out, r);
        started = true;
        for (let i = 0; i < out.length; i++) out[i] = values[i % (rows * rowSize)]!;
      },
      seed: rng.seed(),
    });
  };

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
    if (buffer !== undefined) {
      const expected = [data.shape[0]!, ...buffer.sampleShape];
      if (!tf.util.arraysEqual(data.shape.slice(1), [...buffer.sampleShape])) {
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
      buffer ??= ownBuffer(data);
      const chains = persistent === true ? buffer.capacity : (options.chains ?? data.shape[0]!);
      const drawn = buffer.sample(chains);
      try {
        const moved = run(energyFn, drawn.samples);
        buffer.update(drawn.indices, moved);
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
  return Object.defineProperties(loss, {
    sample: {
      value(energyFn: EnergyFn, data: tf.Tensor) {
        checkData(energyFn, data);
        return sample(energyFn, data);
      },
    },
    buffer: { get: () => buffer, enumerable: true },
  }) as ContrastiveDivergenceLoss;
}

/** Restart noise for `persistent: true` with `restartProb`: states the sampler accepts. */
function restartNoise(
  sampler: NonNullable<ContrastiveDivergenceOptions['sampler']>,
  samplerOptions: NonNullable<ContrastiveDivergenceOptions['samplerOptions']>,
): (out: Float32Array, rng: Rng) => void {
  if (sampler === 'gibbs' || sampler === 'metropolisHastings') {
    const states = sampler === 'gibbs' ? 2 : (samplerOptions.numStates ?? 2);
    return (out, rng) => {
      for (let i = 0; i < out.length; i++) out[i] = rng.int(states);
    };
  }
  const [lo, hi] = samplerOptions.clamp ?? [-1, 1];
  return (out, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * rng.next();
  };
}
