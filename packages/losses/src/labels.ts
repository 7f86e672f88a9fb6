import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/** Class labels or answer indices: a rank-1 tensor (int32 or float32) or a plain array. */
export type LabelsLike = tf.Tensor | ArrayLike<number>;

function isArrayLike(x: unknown): x is ArrayLike<number> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** Checks labels: one per row, a rank-1 int32/float32 tensor or an array of finite numbers. */
export function assertLabels(
  labels: unknown,
  n: number,
  what: string,
): asserts labels is LabelsLike {
  if (labels instanceof tf.Tensor) {
    validate.assertRank(labels, 1, what);
    if (labels.dtype !== 'int32' && labels.dtype !== 'float32') {
      throw new EbmError(
        'INVALID_DTYPE',
        `${what} must have dtype int32 or float32, received ${labels.dtype}.`,
        {
          argument: what,
          received: labels.dtype,
        },
      );
    }
    if (labels.dtype === 'float32') validate.assertFinite(labels, what);
  } else if (isArrayLike(labels)) {
    for (let i = 0; i < labels.length; i++) {
      if (!Number.isFinite(labels[i])) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `${what}[${i}] must be a finite number, received ${String(labels[i])}.`,
          {
            argument: what,
          },
        );
      }
    }
  } else {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be a rank-1 tf.Tensor or an array of numbers, received ${typeof labels}.`,
      {
        argument: what,
      },
    );
  }
  const length = labels instanceof tf.Tensor ? labels.shape[0]! : labels.length;
  if (length !== n) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${what} must hold one label per row, [${n}], received [${length}].`,
      {
        argument: what,
        expected: [n],
        received: [length],
      },
    );
  }
}

/** Checks answer indices: integers in [0, numAnswers). Reads a tensor back to the host. */
export function assertTargets(
  targets: unknown,
  n: number,
  numAnswers: number,
  what: string,
): asserts targets is LabelsLike {
  assertLabels(targets, n, what);
  const values = targets instanceof tf.Tensor ? targets.dataSync() : targets;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= numAnswers) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${what}[${i}] must be an answer index, an integer in [0, ${numAnswers - 1}], received ${v}.`,
        { argument: what, received: v },
      );
    }
  }
}

/** Labels as a [n] tensor; tracked by the enclosing tidy. */
export function labelsTensor(labels: LabelsLike): tf.Tensor1D {
  if (labels instanceof tf.Tensor) return labels as tf.Tensor1D;
  const values = Array.from(labels);
  return values.every(Number.isInteger)
    ? tf.tensor1d(values, 'int32')
    : tf.tensor1d(values, 'float32');
}

/** [n, n] boolean: same label (the diagonal included). */
export function sameLabelMask(labels: LabelsLike): tf.Tensor2D {
  const l = labelsTensor(labels);
  return tf.equal(tf.reshape(l, [-1, 1]), tf.reshape(l, [1, -1])) as tf.Tensor2D;
}

/** [n, numAnswers] float32 one-hot of validated answer indices. */
export function targetsOneHot(targets: LabelsLike, numAnswers: number): tf.Tensor2D {
  const t = tf.cast(labelsTensor(targets), 'int32') as tf.Tensor1D;
  return tf.cast(tf.oneHot(t, numAnswers), 'float32') as tf.Tensor2D;
}
