import type * as tf from '@tensorflow/tfjs-core';
import { type Attrs, free, type KernelArgs, run, type WebGPUBackend } from './webgpu-backend.js';

/**
 * UnsortedSegmentSum on webgpu, dropping ids outside [0, numSegments) as the cpu backend and
 * TensorFlow do: tfjs-webgpu's adds them into neighbouring rows' memory. Invalid ids go to one
 * extra segment that is sliced off.
 */
export function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackend;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const n = (args.attrs as Attrs)['numSegments'] as number;
  const scalar = (value: number) => run('Fill', backend, {}, { shape: [], value, dtype: 'int32' });
  const [zero, spare] = [scalar(0), scalar(n)];
  const below = run('Less', backend, { a: segmentIds, b: zero });
  const above = run('GreaterEqual', backend, { a: segmentIds, b: spare });
  const invalid = run('LogicalOr', backend, { a: below, b: above });
  const spares = run('Fill', backend, {}, { shape: segmentIds.shape, value: n, dtype: 'int32' });
  const ids = run('Select', backend, { condition: invalid, t: spares, e: segmentIds });
  const sums = run('UnsortedSegmentSum', backend, { x, segmentIds: ids }, { numSegments: n + 1 });
  const out = run(
    'Slice',
    backend,
    { x: sums },
    { begin: sums.shape.map(() => 0), size: [n, ...sums.shape.slice(1)] },
  );
  free(backend, zero, spare, below, above, invalid, spares, ids, sums);
  return out;
}
