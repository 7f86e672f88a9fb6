import { EbmError } from '@ebmjs/core';
import { loadBundle, type SaveTarget, saveBundle } from '@ebmjs/models';
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

/**
 * Writes a whole checkpoint directory atomically: everything goes to `<dir>.tmp-<pid>`, the old
 * checkpoint is moved to `<dir>.old`, the new one renamed into place, and the old one removed.
 * A crash at any point leaves either the previous or the new checkpoint readable
 * (`loadCheckpoint` falls back to `<dir>.old`).
 */
export async function saveCheckpoint(dir: string, content: CheckpointContent): Promise<void> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old`;
  await removeStaleTemporaries(dir);
  await fs.rm(tmp, { recursive: true, force: true });
  const position = new Map(content.trainable.map((v, i) => [v.name, i]));
  const weights = await content.optimizer.getWeights();
  const tensors: Record<string, tf.Tensor> = {};
  const slotNames: string[] = [];
  weights.forEach(({ name, tensor }, i) => {
    const cut = name.lastIndexOf('/');
    const index = cut < 0 ? undefined : position.get(name.slice(0, cut));
    slotNames.push(index === undefined ? name : `${index}/${name.slice(cut + 1)}`);
    tensors[`opt_${i}`] = tensor.dtype === 'float32' ? tensor : tf.cast(tensor, 'float32');
  });
  try {
    await saveBundle(join(tmp, 'training'), 'training-checkpoint', {
      state: { ...content.state, optimizerSlots: slotNames },
      tensors,
      models: content.models,
    });
  } finally {
    for (const [i, { tensor }] of weights.entries())
      if (tensors[`opt_${i}`] !== tensor) tensors[`opt_${i}`]!.dispose();
  }
  for (const [name, part] of Object.entries(content.extras ?? {})) await part.save(join(tmp, name));
  await fs.rm(old, { recursive: true, force: true });
  await fs.rename(dir, old).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await fs.rename(tmp, dir);
  await fs.rm(old, { recursive: true, force: true });
}

/** True while a process with this id runs (a save in progress from another process). */
function alive(pid: number): boolean {
  if (pid === process.pid) return false; // ours: a leftover of an earlier failed save
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `<dir>.tmp-<pid>` directories that saves of crashed (killed) processes left behind.
 * Those of a process still running are left alone.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const { basename, dirname, join } = await import('node:path');
  const prefix = `${basename(dir)}.tmp-`;
  const names = await fs.readdir(dirname(dir)).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue;
    const path = join(dirname(dir), name);
    await fs.rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** Reads a checkpoint written by `saveCheckpoint` (or the previous one, if a save was interrupted). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  await removeStaleTemporaries(dir);
  let root = dir;
  const exists = async (p: string) =>
    fs.stat(p).then(
      () => true,
      () => false,
    );
  if (!(await exists(join(dir, 'training'))) && (await exists(join(`${dir}.old`, 'training'))))
    root = `${dir}.old`;
  if (!(await exists(join(root, 'training')))) {
    throw new EbmError('IO', `No checkpoint at ${dir} (expected ${join(dir, 'training')}).`, {
      path: dir,
    });
  }
  const bundle = await loadBundle(join(root, 'training'), 'training-checkpoint');
  const slots = bundle.state['optimizerSlots'];
  if (!Array.isArray(slots))
    throw new EbmError('CORRUPT_FILE', `${dir}: the checkpoint has no optimizer slot list.`);
  const optimizerWeights = slots.map((name, i) => {
    const data = bundle.tensors[`opt_${i}`];
    if (typeof name !== 'string' || data === undefined) {
      throw new EbmError('CORRUPT_FILE', `${dir}: optimizer slot ${i} is missing.`);
    }
    const tensor =
      name === 'iter'
        ? tf.tensor(data.data, data.shape, 'int32')
        : tf.tensor(data.data, data.shape);
    return { name, tensor };
  });
  return {
    models: bundle.models,
    optimizerWeights,
    state: bundle.state,
    extraDir: (name) => join(root, name),
  };
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
