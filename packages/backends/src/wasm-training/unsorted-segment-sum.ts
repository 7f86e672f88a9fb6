import type * as tf from '@tensorflow/tfjs-core';
import { type Attrs, type KernelArgs, run, size, type WasmBackend } from './wasm-backend.js';

/**
 * UnsortedSegmentSum for the wasm backend (tfjs 4.22 has none; GatherV2's gradient needs it):
 * out[s] = Σ_{i: ids[i] = s} x[i], ids outside [0, numSegments) dropped as on the cpu backend.
 * One pass over x adding rows into the output on the wasm heap — O(|x|), where a one-hot matmul
 * would cost O(|x|·numSegments).
 */
export function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as Attrs)['numSegments'] as number;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    return run('UnsortedSegmentSum', backend, { x, segmentIds }, { numSegments });
  }
  const rows = size(segmentIds.shape);
  const inner = rows === 0 ? 0 : size(x.shape) / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  // Views after the allocation: growing the wasm memory detaches older ones.
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array | Float32Array;
  dst.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i]!;
    if (!(s >= 0 && s < numSegments)) continue;
    const from = i * inner;
    const to = Math.trunc(s) * inner;
    for (let j = 0; j < inner; j++) dst[to + j]! += src[from + j]!;
  }
  return out;
}
