import { resolveOptions } from '@ebmjs/contract';
import { EbmError, untaped, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertFloatInput, assertFunction } from './checks.js';
import { allPairs, type IndexTuple, shiftReferences } from './indices.js';
import { assertLabels } from './labels.js';
import { assertMiner, type Miner } from './miners.js';
import type { LabelledLoss } from './sup-con.js';

export interface CrossBatchMemoryOptions {
  /** How many past embeddings (and labels) the queue keeps. Default 1024 (pytorch-metric-learning). */
  size?: number;
  /** Mines (batch, memory) tuples on every call. Default: all (batch, memory) pairs. */
  miner?: Miner;
}

/** A labelled loss over the batch and a queue of past embeddings; `dispose()` frees the queue. */
export interface CrossBatchMemoryLoss {
  (embeddings: tf.Tensor, labels: ArrayLike<number> | tf.Tensor): tf.Scalar;
  /** Rows currently in the queue (at most `size`). */
  readonly queued: number;
  /** The queued embeddings [length, d], oldest first (owned by the loss), or null when empty. */
  readonly embeddings: tf.Tensor2D | null;
  /** The queued labels, oldest first. */
  readonly labels: readonly number[];
  /** Empties the queue. */
  reset(): void;
  /** Frees the queue; the loss may be used again and starts empty. */
  dispose(): void;
}

/**
 * Cross-batch memory (XBM, Wang et al. 2020; pytorch-metric-learning's CrossBatchMemory): wraps a
 * labelled loss (`triplet`, `pairContrastive`, `supCon`) so that each batch is compared with a
 * FIFO queue of the last `size` embeddings, which are detached. As in pytorch-metric-learning the
 * batch is enqueued first (the oldest rows leave), then every anchor of the batch is paired with
 * every queued row except its own copy, and the wrapped loss gets those index tuples
 * (or the miner's, mined between the batch and the queue) over [batch; queue].
 */
export function crossBatchMemory(
  loss: LabelledLoss,
  options: CrossBatchMemoryOptions = {},
): CrossBatchMemoryLoss {
  assertFunction(loss, 'crossBatchMemory: loss');
  const { size, miner } = resolveOptions('crossBatchMemory', options, {
    size: 1024,
    miner: undefined,
  });
  validate.assertNumber(size, 'crossBatchMemory: size', { integer: true, min: 1 });
  if (miner !== undefined) assertMiner(miner, 'crossBatchMemory: miner');
  let memory: tf.Tensor2D | null = null;
  let memoryLabels: number[] = [];

  const call = (embeddings: tf.Tensor, labels: ArrayLike<number> | tf.Tensor): tf.Scalar => {
    assertFloatInput(embeddings, 2, 'crossBatchMemory: embeddings');
    const [batch, dim] = embeddings.shape as [number, number];
    assertLabels(labels, batch, 'crossBatchMemory: labels');
    if (batch > size) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `crossBatchMemory: batch size must be at most the memory size ${size}, received ${batch}.`,
        { expected: `<= ${size}`, received: batch },
      );
    }
    if (memory !== null && memory.shape[1] !== dim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `crossBatchMemory: embeddings must have ${memory.shape[1]} columns like the queued ones, received ${dim}.`,
        { expected: memory.shape[1], received: dim },
      );
    }
    const batchLabels = Array.from(labels instanceof tf.Tensor ? labels.dataSync() : labels);
    const kept = Math.min(memoryLabels.length, size - batch);
    // The queue after enqueuing, built off the tape: its rows never get a gradient.
    const next = untaped(() =>
      tf.tidy(() => {
        const fresh = tf.clone(embeddings) as tf.Tensor2D;
        if (memory === null || kept === 0) return fresh;
        const old = tf.slice(memory, [memory.shape[0]! - kept, 0], [kept, dim]);
        return tf.concat([old, fresh], 0) as tf.Tensor2D;
      }),
    );
    try {
      const nextLabels = [...memoryLabels.slice(memoryLabels.length - kept), ...batchLabels];
      // Batch row i sits at row kept + i of the queue: that pair is a self-comparison.
      let tuple: IndexTuple = miner
        ? miner(embeddings, batchLabels, next, nextLabels)
        : allPairs(batchLabels, nextLabels, false);
      tuple = removeSelf(tuple, kept);
      const value = tf.tidy(() =>
        loss(
          tf.concat([embeddings, next], 0),
          [...batchLabels, ...nextLabels],
          shiftReferences(tuple, batch),
        ),
      );
      memory?.dispose();
      memory = next;
      memoryLabels = nextLabels;
      return value;
    } catch (error) {
      next.dispose();
      throw error;
    }
  };
  const reset = () => {
    memory?.dispose();
    memory = null;
    memoryLabels = [];
  };
  Object.defineProperties(call, {
    queued: { get: () => memoryLabels.length },
    embeddings: { get: () => memory },
    labels: { get: () => memoryLabels },
  });
  return Object.assign(call, { reset, dispose: reset }) as unknown as CrossBatchMemoryLoss;
}

/** Drops (anchor i, positive kept + i): a row paired with its own queued copy. */
function removeSelf(tuple: IndexTuple, kept: number): IndexTuple {
  const [a, p] = tuple;
  const keep: number[] = [];
  for (let k = 0; k < a.length; k++) if (p[k] !== kept + a[k]!) keep.push(k);
  const pick = (x: Int32Array) => Int32Array.from(keep, (k) => x[k]!);
  return tuple.length === 3
    ? [pick(tuple[0]), pick(tuple[1]), pick(tuple[2])]
    : [pick(tuple[0]), pick(tuple[1]), tuple[2], tuple[3]];
}
