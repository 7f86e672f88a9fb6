import type * as tf from '@tensorflow/tfjs-core';
import { type Attrs, free, type KernelArgs, run, size, type WasmBackend } from './wasm-backend.js';

/**
 * FusedBatchNorm (inference form y = (x − mean)·scale/√(var + ε) + offset, which tfjs-layers
 * also runs in training with the batch statistics) for the wasm backend as two broadcast
 * XNNPACK-backed passes, y = x·a + b, with the per-channel a = scale/√(var + ε) and
 * b = offset − mean·a computed first. tfjs's wasm kernel is a scalar loop that recomputes the
 * channel of every element. Statistics that are not per-channel vectors go to tfjs's kernel.
 */
export function fusedBatchNorm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const { x, mean, variance, offset, scale } = inputs as {
    x: tf.TensorInfo;
    mean: tf.TensorInfo;
    variance: tf.TensorInfo;
    offset?: tf.TensorInfo | null;
    scale?: tf.TensorInfo | null;
  };
  const attrs = (args.attrs ?? {}) as Attrs;
  const epsilon = attrs['varianceEpsilon'] as number;
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const perChannel = (t: tf.TensorInfo | null | undefined) =>
    t == null || (t.dtype === 'float32' && (size(t.shape) === channels || size(t.shape) === 1));
  if (
    x.dtype !== 'float32' ||
    size(x.shape) === 0 ||
    ![mean, variance, offset, scale].every(perChannel)
  ) {
    return run('FusedBatchNorm', backend, inputs as Record<string, tf.TensorInfo>, attrs);
  }
  const a = backend.makeOutput([channels], 'float32');
  const b = backend.makeOutput([channels], 'float32');
  // Views after the allocations: growing the wasm memory detaches older ones.
  const read = (t: tf.TensorInfo | null | undefined, fallback: number) => {
    if (t == null) return () => fallback;
    const v = backend.typedArrayFromHeap(t) as Float32Array;
    return v.length === 1 ? () => v[0]! : (c: number) => v[c]!;
  };
  const m = read(mean, 0);
  const v = read(variance, 1);
  const o = read(offset, 0);
  const s = read(scale, 1);
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  for (let c = 0; c < channels; c++) {
    const k = s(c) / Math.sqrt(v(c) + epsilon);
    av[c] = k;
    bv[c] = o(c) - m(c) * k;
  }
  const scaled = run('Multiply', backend, { a: x, b: a });
  const out = run('Add', backend, { a: scaled, b });
  free(backend, a, b, scaled);
  return out;
}
