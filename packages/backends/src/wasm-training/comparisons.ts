import * as tf from '@tensorflow/tfjs-core';
import { tile } from './tile.js';
import { free, type KernelArgs, run, view, type WasmBackend } from './wasm-backend.js';

/** The comparison kernels whose broadcasting path in tfjs's wasm backend is slow. */
export const COMPARISONS = [
  'Equal',
  'NotEqual',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
] as const;

/**
 * A comparison for the wasm backend that broadcasts by tiling the operands to the output shape
 * first (block memmoves), then runs tfjs's kernel on equal shapes. tfjs's wasm comparisons
 * compute broadcast indices per element: Equal([512, 512], [512, 1]) — the max-gradient of the
 * NT-Xent log-sum-exp — took 48 ms against 2.4 ms on equal shapes.
 */
export function broadcastComparison(kernelName: (typeof COMPARISONS)[number]): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const backend = args.backend as WasmBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.shape.join() === b.shape.join() || a.dtype === 'string' || b.dtype === 'string') {
      return run(kernelName, backend, { a, b });
    }
    const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const expand = (t: tf.TensorInfo) => {
      if (t.shape.join() === shape.join()) return t;
      const padded = view(t, [...new Array(shape.length - t.shape.length).fill(1), ...t.shape]);
      const reps = shape.map((d, i) => (padded.shape[i] === d ? 1 : d));
      return tile({ inputs: { x: padded }, backend, attrs: { reps } });
    };
    const ea = expand(a);
    const eb = expand(b);
    const out = run(kernelName, backend, { a: ea, b: eb });
    if (ea !== a) free(backend, ea);
    if (eb !== b) free(backend, eb);
    return out;
  }) as unknown as tf.KernelFunc;
}
