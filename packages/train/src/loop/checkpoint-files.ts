// Checkpoint directories on the local file system (Node only: reached through `#node-io` and
// `@ebmjs/train/node`, never from the browser entry).
import { EbmError } from '@ebmjs/core';
import { loadBundle, saveBundle } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointContent, LoadedCheckpoint } from './checkpoint.js';

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
    // The casts are ours, and so is every returned tensor that is not one of the optimizer's
    // variables (tfjs's and AdamW's `iter` scalar is made for each getWeights call).
    for (const [i, { tensor }] of weights.entries()) {
      if (tensors[`opt_${i}`] !== tensor) tensors[`opt_${i}`]!.dispose();
      if (!(tensor instanceof tf.Variable)) tensor.dispose();
    }
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
