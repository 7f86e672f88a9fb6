import * as tf from '@tensorflow/tfjs-core';
import {
  type Attrs,
  free,
  type KernelArgs,
  run,
  size,
  view,
  type WasmBackend,
} from './wasm-backend.js';

/**
 * Sum and Mean for the wasm backend when they reduce leading or middle axes (BatchNorm's
 * statistics and gradients over [N, H, W], global average pooling over [H, W]). tfjs's wasm
 * reductions first transpose the reduced axes to the end, an index-per-element copy that made
 * `sum(x, [0, 1, 2])` ~50× slower than reading x once. Here x is viewed as [A, R, 1, K] (R: the
 * reduced axes, which must be contiguous) and averaged over an R×1 window by XNNPACK's average
 * pooling (× R for Sum). A trailing reduction (K = 1), other dtypes and non-contiguous axes go
 * to tfjs's own kernel, which needs no transpose for the first and is rare for the others.
 * (A matmul ones[1, R]·x[R, K] is as fast but XNNPACK would cache a packed copy of x.)
 *
 * XNNPACK's pooling keeps a per-channel row on the wasm stack (64 KiB in tfjs's build): with
 * more than ~16k channels and a window of 8 or more it overflows ("memory access out of
 * bounds", e.g. sum(x, 0) for x [16, 20000]). So K is split as [K / C, C] with C ≤
 * MAX_POOL_CHANNELS, the K / C part becoming the pooling's width (a window of 1 leaves it be).
 */
export const MAX_POOL_CHANNELS = 8192;

export function sum(args: KernelArgs): tf.TensorInfo {
  return reduce(args, 'Sum');
}

export function mean(args: KernelArgs): tf.TensorInfo {
  return reduce(args, 'Mean');
}

function reduce(args: KernelArgs, kernel: 'Sum' | 'Mean'): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const keepDims = (attrs['keepDims'] as boolean | undefined) ?? false;
  const axes = tf.util
    .parseAxisParam(attrs['axis'] as number | number[], x.shape)
    .sort((a, b) => a - b);
  const plan = x.dtype === 'float32' ? planReduction(x.shape, axes) : undefined;
  if (plan === undefined) return run(kernel, backend, { x }, attrs);
  const { a, r, k, width } = plan;
  const outShape = keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  const pooled = run(
    'AvgPool',
    backend,
    { x: view(x, [a, r, width, k / width]) },
    {
      filterSize: [r, 1],
      strides: [1, 1],
      pad: 'valid',
      dimRoundingMode: undefined,
    },
  );
  let result = pooled;
  if (kernel === 'Sum') {
    const scale = backend.makeOutput([], 'float32');
    (backend.typedArrayFromHeap(scale) as Float32Array)[0] = r;
    result = run('Multiply', backend, { a: pooled, b: scale });
    free(backend, pooled, scale);
  }
  return view(result, outShape);
}

/**
 * Views `shape` as [A, R, K] with R the product of the reduced axes, when they are contiguous
 * (after dropping size-1 axes), and K as [width, K / width] with K / width ≤ MAX_POOL_CHANNELS;
 * undefined when the fast path does not apply.
 */
export function planReduction(
  shape: readonly number[],
  axes: readonly number[],
): { a: number; r: number; k: number; width: number } | undefined {
  if (axes.length === 0 || size(shape) === 0) return undefined;
  let a = 1;
  let r = 1;
  let k = 1;
  let stage: 'before' | 'in' | 'after' = 'before';
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    const reduced = axes.includes(i);
    if (d === 1) continue;
    if (reduced) {
      if (stage === 'after') return undefined;
      stage = 'in';
      r *= d;
    } else if (stage === 'before') {
      a *= d;
    } else {
      stage = 'after';
      k *= d;
    }
  }
  // Nothing to reduce, or a trailing reduction (tfjs's kernel needs no transpose then).
  if (r === 1 || k === 1) return undefined;
  const width = poolWidth(k);
  return width === undefined ? undefined : { a, r, k, width };
}

/**
 * The smallest divisor w of k with k / w ≤ MAX_POOL_CHANNELS; undefined when the channels
 * would drop below 64 (k with no such divisor, e.g. a large prime: tfjs's kernel is faster).
 */
function poolWidth(k: number): number | undefined {
  if (k <= MAX_POOL_CHANNELS) return 1;
  for (let w = Math.ceil(k / MAX_POOL_CHANNELS); k / w >= 64; w++) if (k % w === 0) return w;
  return undefined;
}
