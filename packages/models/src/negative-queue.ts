import { resolveOptions } from '@ebmjs/contract';
import { EbmError, ops, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { positiveInt, seed } from './checks.js';
import { loadBundle, type SaveTarget, StateReader, saveBundle } from './persistence.js';

export interface NegativeQueueOptions {
  /** Number of keys held (MoCo's K, 65536 there). */
  size: number;
  /** Key dimension. */
  dim: number;
  /** Initial content: random unit vectors (MoCo) or zeros. Default 'random'. */
  init?: 'random' | 'zeros';
  /** Seed of the random init. Default 0. */
  seed?: number;
}

/**
 * MoCo's dictionary: a FIFO ring of `size` detached keys. `enqueue` writes a batch at the
 * pointer, wrapping around and overwriting the oldest keys; `keys()` is the whole ring as a
 * [size, dim] tensor to score queries against (row order is ring order; use `ordered()` for
 * oldest → newest). The ring is a non-trainable variable, so it stays on the backend's device
 * and no gradient flows into the stored keys.
 */
export class NegativeQueue {
  readonly size: number;
  readonly dim: number;
  private readonly ring: tf.Variable;
  private ptr = 0;
  private filled = 0;
  private disposed = false;

  constructor(options: NegativeQueueOptions) {
    const where = 'NegativeQueue';
    const o = resolveOptions(where, options, {
      size: undefined,
      dim: undefined,
      init: 'random',
      seed: 0,
    });
    this.size = positiveInt(o.size, `${where}: size`);
    this.dim = positiveInt(o.dim, `${where}: dim`);
    const init = o.init;
    if (init !== 'random' && init !== 'zeros') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: init must be 'random' or 'zeros', received ${String(init)}.`,
      );
    }
    const s = seed(o.seed, `${where}: seed`);
    this.ring = tf.tidy(() =>
      tf.variable(
        init === 'zeros'
          ? tf.zeros([this.size, this.dim])
          : ops.l2Normalize(
              tf.randomNormal([this.size, this.dim], 0, 1, 'float32', new Rng(s).seed()),
              1,
            ),
        false,
      ),
    );
  }

  /** The row the next key goes to. */
  get pointer(): number {
    return this.ptr;
  }

  /** How many real keys have been enqueued, up to `size`. */
  get count(): number {
    return this.filled;
  }

  /** The ring, [size, dim]: a live view that changes on `enqueue`; do not dispose it. */
  keys(): tf.Tensor2D {
    this.assertLive();
    return this.ring as tf.Tensor as tf.Tensor2D;
  }

  /** A copy of the ring from oldest to newest key; the caller disposes it. */
  ordered(): tf.Tensor2D {
    this.assertLive();
    return tf.tidy(() =>
      this.ptr === 0
        ? tf.clone(this.ring)
        : tf.concat([rows(this.ring, this.ptr), rows(this.ring, 0, this.ptr)]),
    ) as tf.Tensor2D;
  }

  /**
   * Appends keys [n, dim] (detached: copied, never differentiated). When n > size only the last
   * `size` keys are kept, as if they had been enqueued one by one.
   */
  enqueue(keys: tf.Tensor): void {
    this.assertLive();
    validate.assertFloatTensor(keys, 2, 'NegativeQueue.enqueue: keys');
    if (keys.shape[1] !== this.dim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `NegativeQueue.enqueue: keys must have shape [n, ${this.dim}], received ${validate.shapeString(keys.shape)}.`,
        { expected: [null, this.dim], received: keys.shape },
      );
    }
    const n = keys.shape[0];
    if (n === 0) return;
    const kept = Math.min(n, this.size);
    const start = (this.ptr + n - kept) % this.size;
    const next = tf.tidy(() => {
      const batch = kept === n ? keys : rows(keys, n - kept);
      const head = Math.min(kept, this.size - start); // rows before the wrap
      const parts: tf.Tensor[] = [];
      if (head === kept) {
        if (start > 0) parts.push(rows(this.ring, 0, start));
        parts.push(batch);
        if (start + kept < this.size) parts.push(rows(this.ring, start + kept));
      } else {
        const tail = kept - head;
        parts.push(rows(batch, head), rows(this.ring, tail, start - tail), rows(batch, 0, head));
      }
      return parts.length === 1 ? tf.clone(parts[0]!) : tf.concat(parts);
    });
    this.ring.assign(next);
    next.dispose();
    this.ptr = (this.ptr + n) % this.size;
    this.filled = Math.min(this.size, this.filled + n);
  }

  async save(target: SaveTarget): Promise<void> {
    this.assertLive();
    await saveBundle(target, 'negative-queue', {
      state: { size: this.size, dim: this.dim, pointer: this.ptr, count: this.filled },
      tensors: { keys: this.ring },
    });
  }

  static async load(target: SaveTarget): Promise<NegativeQueue> {
    const bundle = await loadBundle(target, 'negative-queue', { tensors: ['keys'] });
    const s = new StateReader(bundle.state, bundle.where);
    const size = s.int('size', { min: 1 });
    const dim = s.int('dim', { min: 1 });
    const pointer = s.int('pointer', { min: 0, max: size - 1 });
    const count = s.int('count', { min: 0, max: size });
    const keys = StateReader.tensor(bundle, 'keys', [size, dim]);
    const queue = new NegativeQueue({ size, dim, init: 'zeros' });
    tf.tidy(() => queue.ring.assign(tf.tensor2d(keys.data, [size, dim])));
    queue.ptr = pointer;
    queue.filled = count;
    return queue;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ring.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new EbmError('DISPOSED', 'NegativeQueue has been disposed.');
  }
}

/** Rows [begin, begin + count) of a 2-D tensor (count −1: to the end). */
function rows(x: tf.Tensor, begin: number, count = -1): tf.Tensor {
  return tf.slice(x, [begin, 0], [count, -1]);
}
