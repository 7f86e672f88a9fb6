import { resolveOptions } from '@ebmjs/contract';
import { EbmError, ops, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { positiveInt, seed, unitInterval } from './checks.js';
import { type IndexInput, toIndexArray } from './indices.js';
import { loadBundle, type SaveTarget, StateReader, saveBundle } from './persistence.js';

export interface MemoryBankOptions {
  /** Number of items (the dataset size). */
  size: number;
  /** Embedding dimension. */
  dim: number;
  /** μ in m ← normalize(μ·m + (1 − μ)·v). PIRL uses 0.5. Default 0.5. */
  momentum?: number;
  /** Seeds the random unit-vector init and the negative sampling. Default 0. */
  seed?: number;
}

export interface NegativeSample {
  /** [n, k, dim]; the caller disposes it. */
  negatives: tf.Tensor3D;
  /** The sampled item of each negative, row-major [n·k]; never the row's own item. */
  indices: Int32Array;
}

/**
 * PIRL's memory bank: one unit vector per dataset item, moved toward the item's latest
 * embedding by m ← normalize(μ·m + (1 − μ)·v), and a source of negatives drawn uniformly
 * (with replacement) from the *other* items. Held in a non-trainable variable; updates run as
 * a scatter so their cost does not depend on host transfers of the bank.
 */
export class MemoryBank {
  readonly size: number;
  readonly dim: number;
  readonly momentum: number;
  private readonly memory: tf.Variable;
  private rng: Rng;
  private disposed = false;

  constructor(options: MemoryBankOptions) {
    const where = 'MemoryBank';
    const o = resolveOptions(where, options, {
      size: undefined,
      dim: undefined,
      momentum: 0.5,
      seed: 0,
    });
    this.size = positiveInt(o.size, `${where}: size`);
    this.dim = positiveInt(o.dim, `${where}: dim`);
    this.momentum = unitInterval(o.momentum, `${where}: momentum`);
    this.rng = new Rng(seed(o.seed, `${where}: seed`));
    const initSeed = this.rng.seed();
    this.memory = tf.tidy(() =>
      tf.variable(
        ops.l2Normalize(tf.randomNormal([this.size, this.dim], 0, 1, 'float32', initSeed), 1),
        false,
      ),
    );
  }

  /** The whole bank, [size, dim]: a live view that changes on `update`; do not dispose it. */
  bank(): tf.Tensor2D {
    this.assertLive();
    return this.memory as tf.Tensor as tf.Tensor2D;
  }

  /** Rows of the given items, [n, dim]; the caller disposes them. */
  get(indices: IndexInput): tf.Tensor2D {
    this.assertLive();
    const idx = toIndexArray(indices, this.size, 'MemoryBank.get: indices');
    return tf.tidy(() => tf.gather(this.memory, tf.tensor1d(idx, 'int32'))) as tf.Tensor2D;
  }

  /**
   * m_i ← normalize(μ·m_i + (1 − μ)·v_i) for each (index, row) pair; v: [n, dim] (detached:
   * copied, never differentiated). When an index repeats in one batch its last row wins.
   */
  update(indices: IndexInput, v: tf.Tensor): void {
    this.assertLive();
    validate.assertFloatTensor(v, 2, 'MemoryBank.update: v');
    const idx = toIndexArray(indices, this.size, 'MemoryBank.update: indices');
    if (v.shape[0] !== idx.length || v.shape[1] !== this.dim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `MemoryBank.update: v must have shape [${idx.length}, ${this.dim}] (one row per index), received ${validate.shapeString(v.shape)}.`,
        { expected: [idx.length, this.dim], received: v.shape },
      );
    }
    if (idx.length === 0) return;
    const last = new Map<number, number>();
    idx.forEach((item, row) => last.set(item, row));
    const items = Int32Array.from(last.keys());
    const rows = Int32Array.from(last.values());
    const mu = this.momentum;
    const next = tf.tidy(() => {
      const at = tf.tensor2d(items, [items.length, 1], 'int32');
      const old = tf.gather(this.memory, tf.tensor1d(items, 'int32'));
      const fresh = tf.gather(v, tf.tensor1d(rows, 'int32'));
      const moved = ops.l2Normalize(tf.add(tf.mul(old, mu), tf.mul(fresh, 1 - mu)), 1);
      // Indices are unique here, so scatterND's summing of duplicates never applies.
      const written = tf.scatterND(at, moved, [this.size, this.dim]);
      const mask = tf.scatterND(at, tf.ones([items.length, 1]), [this.size, 1]);
      return tf.add(tf.mul(this.memory, tf.sub(1, mask)), written);
    });
    this.memory.assign(next);
    next.dispose();
  }

  /** k negatives per item, each drawn uniformly from the other size − 1 items (seeded stream). */
  negatives(indices: IndexInput, k: number): NegativeSample {
    this.assertLive();
    const idx = toIndexArray(indices, this.size, 'MemoryBank.negatives: indices');
    positiveInt(k, 'MemoryBank.negatives: k');
    if (this.size < 2) {
      throw new EbmError(
        'BATCH_TOO_SMALL',
        'MemoryBank.negatives: a bank of one item has no negatives.',
      );
    }
    const picked = new Int32Array(idx.length * k);
    for (let r = 0; r < idx.length; r++) {
      const self = idx[r]!;
      for (let j = 0; j < k; j++) {
        // Draw from size − 1 slots and skip over the item itself: uniform over the others.
        const o = this.rng.int(this.size - 1);
        picked[r * k + j] = o >= self ? o + 1 : o;
      }
    }
    const negatives = tf.tidy(() =>
      tf.reshape(tf.gather(this.memory, tf.tensor1d(picked, 'int32')), [idx.length, k, this.dim]),
    ) as tf.Tensor3D;
    return { negatives, indices: picked };
  }

  async save(target: SaveTarget): Promise<void> {
    this.assertLive();
    await saveBundle(target, 'memory-bank', {
      state: {
        size: this.size,
        dim: this.dim,
        momentum: this.momentum,
        rngState: this.rng.stateValue,
      },
      tensors: { bank: this.memory },
    });
  }

  static async load(target: SaveTarget): Promise<MemoryBank> {
    const bundle = await loadBundle(target, 'memory-bank', { tensors: ['bank'] });
    const s = new StateReader(bundle.state, bundle.where);
    const size = s.int('size', { min: 1 });
    const dim = s.int('dim', { min: 1 });
    const bank = new MemoryBank({ size, dim, momentum: s.number('momentum', { min: 0, max: 1 }) });
    try {
      const data = StateReader.tensor(bundle, 'bank', [size, dim]);
      bank.rng = new Rng(s.int('rngState', { min: 0, max: 2 ** 32 - 1 }));
      tf.tidy(() => bank.memory.assign(tf.tensor2d(data.data, [size, dim])));
    } catch (error) {
      bank.dispose();
      throw error;
    }
    return bank;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.memory.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new EbmError('DISPOSED', 'MemoryBank has been disposed.');
  }
}
