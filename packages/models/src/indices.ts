import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/** Item indices as callers hold them: a JS array, an Int32Array or an int32 tensor [n]. */
export type IndexInput = readonly number[] | Int32Array | tf.Tensor1D;

/** Copies `indices` to an Int32Array, checking each is an integer in [0, size). */
export function toIndexArray(indices: IndexInput, size: number, what: string): Int32Array {
  let values: ArrayLike<number>;
  if (indices instanceof tf.Tensor) {
    validate.assertRank(indices, 1, what);
    values = indices.dataSync();
  } else if (Array.isArray(indices) || indices instanceof Int32Array) {
    values = indices;
  } else {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be an array, an Int32Array or a 1-D tensor of indices.`,
      {
        argument: what,
      },
    );
  }
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= size) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${what}[${i}] must be an integer in [0, ${size}), received ${v}.`,
        {
          argument: what,
          received: v,
        },
      );
    }
    out[i] = v;
  }
  return out;
}
