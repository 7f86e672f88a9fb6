import type { experimental } from '@ebmjs/export';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../optim/adamw.js';

type StepTensor = experimental.StepTensor;

/**
 * How the compiled graph's optimizer state maps onto the tfjs optimizer's `getWeights()` names:
 * graph slot (`<weight input>/<slot>`) → the tfjs slot suffix (`<variable name>/<suffix>`).
 */
export type SlotNames = Record<string, string>;

interface Located {
  tensor: StepTensor;
  /** The tfjs variable it belongs to (for optimizer state: its weight's) and its ONNX axis order. */
  variable: tf.Variable;
  perm: number[] | undefined;
  /** tfjs optimizer slot name, for optimizer state. */
  slotName?: string;
}

/** Every state tensor of a compiled step with the tfjs variable (and optimizer slot) it mirrors. */
function locate(state: readonly StepTensor[], slots: SlotNames): Located[] {
  const weights = new Map(state.filter((s) => s.source).map((s) => [s.input, s]));
  return state.map((s) => {
    if (s.source)
      return { tensor: s, variable: s.source.variable.read() as tf.Variable, perm: s.source.perm };
    const cut = s.input.lastIndexOf('/');
    const owner = weights.get(s.input.slice(0, cut));
    const suffix = slots[s.input.slice(cut + 1)];
    if (owner === undefined || suffix === undefined)
      throw new Error(`compiled step: state "${s.input}" has no tfjs counterpart.`);
    const variable = owner.source!.variable.read() as tf.Variable;
    return {
      tensor: s,
      variable,
      perm: owner.source!.perm,
      slotName: `${variable.name}/${suffix}`,
    };
  });
}

/** Reads a tfjs tensor into ONNX layout (`perm`: tfjs axes → ONNX axes). */
async function toGraphLayout(t: tf.Tensor, perm: number[] | undefined): Promise<Float32Array> {
  if (perm === undefined) return Float32Array.from(await t.data());
  const moved = tf.transpose(t, perm);
  try {
    return (await moved.data()) as Float32Array;
  } finally {
    moved.dispose();
  }
}

/** A graph value in tfjs layout, shaped like `like`. */
function fromGraphLayout(
  data: Float32Array,
  dims: number[],
  perm: number[] | undefined,
): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(data, dims, 'float32');
    if (perm === undefined) return t;
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return tf.transpose(t, inverse);
  });
}

/**
 * Sets every state tensor's initial value from the live tfjs state: weights and moving
 * statistics from their variables, optimizer state from the optimizer's slots (zeros for a slot
 * the optimizer has not created yet, as it would).
 */
export async function readTfjsState(
  state: StepTensor[],
  optimizer: tf.Optimizer,
  slots: SlotNames,
): Promise<void> {
  const current = new Map((await optimizer.getWeights()).map((w) => [w.name, w.tensor]));
  for (const { tensor, variable, perm, slotName } of locate(state, slots)) {
    const source = slotName === undefined ? variable : current.get(slotName);
    tensor.initial =
      source === undefined
        ? new Float32Array(tensor.initial.length)
        : await toGraphLayout(source, perm);
  }
  // getWeights hands out fresh tensors for scalars like the step counter; slot tensors are the
  // optimizer's own variables and stay.
  for (const t of current.values()) if (!(t instanceof tf.Variable)) t.dispose();
}

/**
 * Writes the graph's current state back into tfjs: variables assigned in place, optimizer slots
 * and step counter through `setWeights` (in the loop's trainable order, which tfjs's momentum
 * optimizer keys its slots by).
 */
export async function writeTfjsState(
  state: readonly StepTensor[],
  value: (input: string) => Float32Array,
  optimizer: tf.Optimizer,
  trainable: readonly tf.Variable[],
  slots: SlotNames,
  step: number,
): Promise<void> {
  const slotValues = new Map<string, tf.Tensor>();
  for (const { tensor, variable, perm, slotName } of locate(state, slots)) {
    const t = fromGraphLayout(value(tensor.input), tensor.dims, perm);
    if (slotName === undefined) {
      variable.assign(t);
      t.dispose();
    } else slotValues.set(slotName, t);
  }
  const ordered: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(step, 'int32') }];
  for (const v of trainable)
    for (const suffix of new Set(Object.values(slots))) {
      const t = slotValues.get(`${v.name}/${suffix}`);
      if (t !== undefined) ordered.push({ name: `${v.name}/${suffix}`, tensor: t });
    }
  try {
    await optimizer.setWeights(ordered);
  } finally {
    tf.dispose(ordered.map((w) => w.tensor));
  }
}
