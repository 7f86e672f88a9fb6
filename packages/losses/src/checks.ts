import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/** Input checks shared by the losses, on top of core's `validate`. */

/** Throws BATCH_TOO_SMALL when `received < min`, saying why the loss needs more. */
export function assertAtLeast(received: number, min: number, what: string, why: string): void {
  if (received < min) {
    throw new EbmError(
      'BATCH_TOO_SMALL',
      `${what} must be at least ${min}, received ${received}: ${why}`,
      {
        argument: what,
        expected: `>= ${min}`,
        received,
      },
    );
  }
}

/**
 * core's assertFloatTensor, except that an empty tensor skips the NaN scan (which reports an
 * empty tensor as non-finite): the loss then says its batch is too small instead.
 */
export function assertFloatInput(
  x: unknown,
  rank: number | readonly number[],
  what: string,
): asserts x is tf.Tensor {
  validate.assertRank(x, rank, what);
  validate.assertFloat(x, what);
  if (x.size > 0) validate.assertFinite(x, what);
}

/**
 * Samples given beside `data` (CD's negatives, NCE's noise): a finite float tensor of data's rank
 * and row shape, with at least one row (`count` names that number, `why` says what the loss
 * needs the samples for).
 */
export function assertSamplesLike(
  samples: unknown,
  data: tf.Tensor,
  what: string,
  count: string,
  why: string,
): asserts samples is tf.Tensor {
  assertFloatInput(samples, data.rank, what);
  if (!tf.util.arraysEqual(samples.shape.slice(1), data.shape.slice(1))) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${what} must have the row shape of data, received ${validate.shapeString(samples.shape)} for data ${validate.shapeString(data.shape)}.`,
    );
  }
  assertAtLeast(samples.shape[0]!, 1, count, why);
}

/** A function that maps a batch of states [n, ...] to one energy per state, [n]. */
export type EnergyFn = (x: tf.Tensor) => tf.Tensor;

export function assertFunction(
  fn: unknown,
  what: string,
): asserts fn is (...args: never[]) => unknown {
  if (typeof fn !== 'function') {
    throw new EbmError('INVALID_ARGUMENT', `${what} must be a function, received ${typeof fn}.`, {
      argument: what,
    });
  }
}

/** Calls `fn` on `x` and checks it returned one float energy per row. */
export function evalEnergies(fn: EnergyFn, x: tf.Tensor, where: string): tf.Tensor1D {
  const e = fn(x);
  const n = x.shape[0];
  if (!(e instanceof tf.Tensor) || e.rank !== 1 || e.shape[0] !== n || e.dtype !== 'float32') {
    const got = e instanceof tf.Tensor ? `${e.dtype} ${validate.shapeString(e.shape)}` : typeof e;
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: the energy function must return one float32 energy per state, shape [${n}], received ${got}.`,
      { expected: [n], received: e instanceof tf.Tensor ? e.shape : typeof e },
    );
  }
  return e as tf.Tensor1D;
}

/** Checks that a float32 [n, d] tensor holds only 0s and 1s (one host read). */
export function assertBinary(x: tf.Tensor, what: string): void {
  const bad = tf.tidy(() => tf.any(tf.logicalAnd(tf.notEqual(x, 0), tf.notEqual(x, 1))));
  const invalid = bad.dataSync()[0] === 1;
  bad.dispose();
  if (invalid) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must hold binary states (0 or 1 as float32), received other values.`,
      {
        argument: what,
      },
    );
  }
}

/** Validates a temperature-like option: a finite number > 0. */
export function assertPositive(value: unknown, what: string): asserts value is number {
  validate.assertNumber(value, what, { min: 0, exclusiveMin: true });
}
