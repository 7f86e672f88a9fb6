import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';
import { Rng } from './random.js';
import { assertFloatTensor, assertNumber, shapeString } from './validate.js';

/** Fills `out` with fresh chain starts; `rng` is the buffer's seeded generator. */
export type ReplayInit = (out: Float32Array, rng: Rng) => void;

export interface ReplayBufferOptions {
  /** Number of stored chains. */
  capacity: number;
  /** Shape of one state, without the batch dimension (for example [28, 28, 1]). */
  sampleShape: readonly number[];
  /**
   * Probability that a drawn chain is restarted from `init` instead of continued. Default 0:
   * persistent contrastive divergence as Tieleman (2008) defines it, whose chains are never
   * restarted. Set it (JEM and IGEBM use 0.05) for JEM-style restarts from noise, which trade
   * the chains' persistence for exploration.
   */
  reinitProb?: number;
  /** How chains start: uniform in `range` (default), standard normal, or a custom filler. */
  init?: 'uniform' | 'normal' | ReplayInit;
  /** Range of the 'uniform' init. Default [−1, 1]. */
  range?: readonly [number, number];
  seed?: number;
}

export interface ReplaySample {
  /** [n, ...sampleShape]; owned by the caller. */
  samples: tf.Tensor;
  /** Buffer slots the rows came from, to pass back to `update`. */
  indices: Int32Array;
  /** Which rows were restarted from `init` this time. */
  reinitialized: Uint8Array;
}

/** A serialisable snapshot of a buffer, for checkpoints. */
export interface ReplayBufferState {
  version: 1;
  capacity: number;
  sampleShape: number[];
  reinitProb: number;
  data: Float32Array;
  rngState: number;
}

/**
 * Persistent chains for persistent contrastive divergence and JEM-style training: a fixed pool
 * of states, filled from `init` at construction. `sample(n)` draws n distinct chains (without
 * replacement); after the sampler has moved them, `update(indices, samples)` writes them back.
 * By default a chain is only ever continued (PCD); with `reinitProb` > 0 each drawn chain is
 * restarted from `init` with that probability (JEM-style restarts). Kept in host memory so it
 * never holds tensors between steps.
 */
export class ReplayBuffer {
  readonly capacity: number;
  readonly sampleShape: readonly number[];
  readonly reinitProb: number;
  private readonly stateSize: number;
  private readonly data: Float32Array;
  private readonly fill: ReplayInit;
  private rng: Rng;

  constructor(options: ReplayBufferOptions) {
    const { capacity, sampleShape, reinitProb = 0 } = options;
    assertNumber(capacity, 'ReplayBuffer: capacity', { min: 1, integer: true });
    if (!Array.isArray(sampleShape) || sampleShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `ReplayBuffer: sampleShape must be an array of positive integers, received ${JSON.stringify(sampleShape)}.`,
      );
    }
    assertNumber(reinitProb, 'ReplayBuffer: reinitProb', { min: 0, max: 1 });
    this.capacity = capacity;
    this.sampleShape = [...sampleShape];
    this.reinitProb = reinitProb;
    this.stateSize = sampleShape.reduce((a, b) => a * b, 1);
    this.fill = resolveInit(options.init ?? 'uniform', options.range ?? [-1, 1]);
    this.rng = new Rng(options.seed);
    this.data = new Float32Array(capacity * this.stateSize);
    this.fill(this.data, this.rng);
  }

  /** Draws `n` distinct chains; each is restarted from `init` with probability `reinitProb` (default 0: never). */
  sample(n: number): ReplaySample {
    assertNumber(n, 'ReplayBuffer.sample: n', { min: 1, integer: true });
    if (n > this.capacity) {
      throw new EbmError(
        'BATCH_TOO_SMALL',
        `ReplayBuffer.sample: cannot draw ${n} distinct chains from a buffer of capacity ${this.capacity}.`,
        { expected: `<= ${this.capacity}`, received: n },
      );
    }
    const indices = this.rng.permutation(this.capacity, n);
    const reinitialized = new Uint8Array(n);
    const out = new Float32Array(n * this.stateSize);
    const fresh = new Float32Array(this.stateSize);
    for (let r = 0; r < n; r++) {
      if (this.rng.next() < this.reinitProb) {
        this.fill(fresh, this.rng);
        out.set(fresh, r * this.stateSize);
        reinitialized[r] = 1;
      } else {
        const start = indices[r]! * this.stateSize;
        out.set(this.data.subarray(start, start + this.stateSize), r * this.stateSize);
      }
    }
    return { samples: tf.tensor(out, [n, ...this.sampleShape], 'float32'), indices, reinitialized };
  }

  /** Writes moved chains back to the slots they were drawn from. */
  update(indices: Int32Array | readonly number[], samples: tf.Tensor): void {
    assertFloatTensor(samples, this.sampleShape.length + 1, 'ReplayBuffer.update: samples');
    const expected = [indices.length, ...this.sampleShape];
    if (!tf.util.arraysEqual(samples.shape, expected)) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `ReplayBuffer.update: samples must have shape ${shapeString(expected)} (one row per index), received ${shapeString(samples.shape)}.`,
        { expected, received: samples.shape },
      );
    }
    const seen = new Set<number>();
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.capacity || seen.has(i)) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `ReplayBuffer.update: indices must be distinct integers in [0, ${this.capacity - 1}], received ${i}${seen.has(i) ? ' twice' : ''}.`,
        );
      }
      seen.add(i);
    }
    const values = samples.dataSync();
    indices.forEach((slot, r) => {
      this.data.set(
        values.subarray(r * this.stateSize, (r + 1) * this.stateSize),
        slot * this.stateSize,
      );
    });
  }

  /** A copy of chain `index`, as a flat Float32Array. */
  get(index: number): Float32Array {
    assertNumber(index, 'ReplayBuffer.get: index', {
      min: 0,
      max: this.capacity - 1,
      integer: true,
    });
    return this.data.slice(index * this.stateSize, (index + 1) * this.stateSize);
  }

  state(): ReplayBufferState {
    return {
      version: 1,
      capacity: this.capacity,
      sampleShape: [...this.sampleShape],
      reinitProb: this.reinitProb,
      data: this.data.slice(),
      rngState: this.rng.stateValue,
    };
  }

  /** Restores chains and the random stream from `state()` of a buffer of the same shape. */
  restore(state: ReplayBufferState): void {
    if (
      state?.version !== 1 ||
      state.capacity !== this.capacity ||
      !tf.util.arraysEqual(state.sampleShape, [...this.sampleShape]) ||
      !(state.data instanceof Float32Array) ||
      state.data.length !== this.data.length
    ) {
      throw new EbmError(
        'CORRUPT_FILE',
        `ReplayBuffer.restore: state does not match a version-1 buffer of capacity ${this.capacity} and sampleShape ${shapeString(this.sampleShape)}.`,
      );
    }
    this.data.set(state.data);
    this.rng = new Rng(state.rngState);
  }
}

function resolveInit(
  init: ReplayBufferOptions['init'],
  range: readonly [number, number],
): ReplayInit {
  if (typeof init === 'function') return init;
  if (init === 'normal') {
    return (out, rng) => {
      for (let i = 0; i < out.length; i++) out[i] = rng.normal();
    };
  }
  if (init === 'uniform') {
    const [lo, hi] = range;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `ReplayBuffer: range must be [min, max] with min < max, received ${JSON.stringify(range)}.`,
      );
    }
    return (out, rng) => {
      for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * rng.next();
    };
  }
  throw new EbmError(
    'INVALID_ARGUMENT',
    `ReplayBuffer: init must be 'uniform', 'normal' or a function, received ${String(init)}.`,
  );
}
