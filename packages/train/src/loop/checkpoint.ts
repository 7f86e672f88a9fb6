// What a checkpoint holds and how it is restored into live models, runnable anywhere. Writing and
// reading checkpoint directories needs node:fs: checkpoint-files.ts, reached through `#node-io`.
import { EbmError } from '@ebmjs/core';
import type { SaveTarget } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** Something with its own versioned save (NegativeQueue, MemoryBank). */
export interface Saveable {
  save(target: SaveTarget): Promise<void>;
}

export interface CheckpointContent {
  /** Every model whose weights the run needs (encoder, heads, momentum targets). */
  models: Record<string, tfl.LayersModel>;
  optimizer: tf.Optimizer;
  /** The variables the optimizer updates, in a fixed order: its slots are stored by position. */
  trainable: readonly tf.Variable[];
  /** JSON state: epoch, step, RNG state, history, config. */
  state: Record<string, unknown>;
  /** Stateful parts saved into subdirectories. */
  extras?: Record<string, Saveable>;
}

export interface LoadedCheckpoint {
  models: Record<string, tfl.LayersModel>;
  /** Optimizer slots named `<variable position>/<slot>` (plus `iter`). */
  optimizerWeights: { name: string; tensor: tf.Tensor }[];
  state: Record<string, unknown>;
  /** Directory of each extra's save. */
  extraDir: (name: string) => string;
}

/** Maps slots stored by variable position back to the current variables' names and loads them. */
export async function restoreOptimizer(
  optimizer: tf.Optimizer,
  trainable: readonly tf.Variable[],
  weights: { name: string; tensor: tf.Tensor }[],
): Promise<void> {
  const renamed = weights.map(({ name, tensor }) => {
    const cut = name.indexOf('/');
    if (cut < 0) return { name, tensor };
    const variable = trainable[Number(name.slice(0, cut))];
    if (variable === undefined)
      throw new EbmError(
        'CORRUPT_FILE',
        `Checkpoint optimizer slot ${name} refers to a variable this model does not have.`,
      );
    return { name: `${variable.name}/${name.slice(cut + 1)}`, tensor };
  });
  await optimizer.setWeights(renamed);
  tf.dispose(weights.map((w) => w.tensor));
}

/**
 * Copies weights of a loaded model into the freshly built one of the same architecture, layer by
 * layer: model-level weight lists put trainable weights first, so a frozen copy (a momentum
 * target) lists them in another order than the same model when trainable.
 */
export function copyWeights(from: tfl.LayersModel, to: tfl.LayersModel, what: string): void {
  const mismatch = () =>
    new EbmError(
      'CORRUPT_FILE',
      `Checkpoint model ${what} does not match the configured architecture.`,
    );
  if (from.layers.length !== to.layers.length) throw mismatch();
  to.layers.forEach((layer, i) => {
    const source = from.layers[i]!.getWeights();
    const target = layer.getWeights();
    if (
      source.length !== target.length ||
      source.some((w, j) => !tf.util.arraysEqual(w.shape, target[j]!.shape))
    ) {
      throw mismatch();
    }
    if (source.length > 0) layer.setWeights(source);
  });
}
