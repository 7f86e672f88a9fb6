import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';

/**
 * Input checks shared by every package. Each names the argument (`what`) and the expected
 * and received values so that an error message alone tells the user what to fix.
 */

let finiteChecks = true;

/**
 * Turns the NaN/Inf scan of `assertFinite` on or off globally. The scan reads one boolean
 * back from the backend, which costs a GPU sync per call: training loops on GPU backends may
 * switch it off once their inputs are known to be clean. Returns the previous setting.
 */
export function setFiniteChecks(enabled: boolean): boolean {
  const previous = finiteChecks;
  finiteChecks = enabled;
  return previous;
}

export function assertTensor(x: unknown, what: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    const received = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x;
    throw new EbmError('INVALID_ARGUMENT', `${what} must be a tf.Tensor, received ${received}.`, {
      argument: what,
    });
  }
  if (x.isDisposed) {
    throw new EbmError('DISPOSED', `${what} has already been disposed.`, { argument: what });
  }
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Asserts the rank of `x`; `rank` may list several accepted ranks. */
export function assertRank(
  x: unknown,
  rank: number | readonly number[],
  what: string,
): asserts x is tf.Tensor {
  assertTensor(x, what);
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!ranks.includes(x.rank)) {
    throw new EbmError(
      'INVALID_RANK',
      `${what} must have rank ${ranks.join(' or ')}, received rank ${x.rank} with shape ${shapeString(x.shape)}.`,
      { argument: what, expected: ranks, received: x.shape },
    );
  }
}

export function assertFloat(x: tf.Tensor, what: string): void {
  if (x.dtype !== 'float32') {
    throw new EbmError('INVALID_DTYPE', `${what} must have dtype float32, received ${x.dtype}.`, {
      argument: what,
      expected: 'float32',
      received: x.dtype,
    });
  }
}

/** Throws NON_FINITE when `x` holds a NaN or ±Infinity (unless finite checks are disabled). */
export function assertFinite(x: tf.Tensor, what: string): void {
  if (!finiteChecks || x.size === 0) return;
  const ok = tf.tidy(() => tf.all(tf.isFinite(x)));
  const finite = ok.dataSync()[0] === 1;
  ok.dispose();
  if (!finite) {
    throw new EbmError('NON_FINITE', `${what} contains NaN or Infinity.`, { argument: what });
  }
}

/** The common case: a float32 tensor of the given rank(s) without NaN or Infinity. */
export function assertFloatTensor(
  x: unknown,
  rank: number | readonly number[],
  what: string,
): asserts x is tf.Tensor {
  assertRank(x, rank, what);
  assertFloat(x, what);
  assertFinite(x, what);
}

/** Asserts that dimension `axisA` of `a` equals dimension `axisB` of `b`. */
export function assertSameDim(
  a: tf.Tensor,
  axisA: number,
  whatA: string,
  b: tf.Tensor,
  axisB: number,
  whatB: string,
): void {
  const da = a.shape[axisA < 0 ? a.rank + axisA : axisA];
  const db = b.shape[axisB < 0 ? b.rank + axisB : axisB];
  if (da !== db) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${whatA} has shape ${shapeString(a.shape)} and ${whatB} has shape ${shapeString(b.shape)}: ` +
        `dimension ${axisA} of ${whatA} (${da}) must equal dimension ${axisB} of ${whatB} (${db}).`,
      { expected: da, received: db, arguments: [whatA, whatB] },
    );
  }
}

export function assertSameShape(a: tf.Tensor, whatA: string, b: tf.Tensor, whatB: string): void {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${whatA} and ${whatB} must have the same shape, received ${shapeString(a.shape)} and ${shapeString(b.shape)}.`,
      { expected: a.shape, received: b.shape, arguments: [whatA, whatB] },
    );
  }
}

/** Validates a numeric option: finite, and within the optional open/closed bounds. */
export function assertNumber(
  value: unknown,
  what: string,
  bounds: { min?: number; max?: number; exclusiveMin?: boolean; integer?: boolean } = {},
): asserts value is number {
  const { min, max, exclusiveMin = false, integer = false } = bounds;
  const describe = () => {
    const parts: string[] = [integer ? 'an integer' : 'a finite number'];
    if (min !== undefined) parts.push(`${exclusiveMin ? '>' : '>='} ${min}`);
    if (max !== undefined) parts.push(`<= ${max}`);
    return parts.join(' ');
  };
  const bad =
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    (min !== undefined && (exclusiveMin ? value <= min : value < min)) ||
    (max !== undefined && value > max);
  if (bad) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be ${describe()}, received ${String(value)}.`,
      {
        argument: what,
        received: value,
      },
    );
  }
}

/** Resolves a possibly negative axis against `rank`, throwing when it is out of range. */
export function resolveAxis(axis: number, rank: number, what: string): number {
  assertNumber(axis, what, { integer: true });
  const resolved = axis < 0 ? rank + axis : axis;
  if (resolved < 0 || resolved >= rank) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} ${axis} is out of range for a tensor of rank ${rank}.`,
      { argument: what, received: axis },
    );
  }
  return resolved;
}
