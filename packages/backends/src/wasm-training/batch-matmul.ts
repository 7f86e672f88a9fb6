import * as tf from '@tensorflow/tfjs-core';
import {
  type Attrs,
  free,
  type KernelArgs,
  run,
  transpose,
  view,
  type WasmBackend,
} from './wasm-backend.js';

/**
 * BatchMatMul for the wasm backend that always reaches XNNPACK's matmul. tfjs's wasm kernel uses
 * XNNPACK only for an unbatched product without transpose flags and otherwise a scalar blocked
 * loop (~13× slower); autograd's MatMul gradient always passes transposeA or transposeB. So a
 * flagged operand is transposed first (a memory pass) and a batch runs as one XNNPACK product
 * per matrix.
 */
export function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const transposeA = (attrs['transposeA'] as boolean | undefined) ?? false;
  const transposeB = (attrs['transposeB'] as boolean | undefined) ?? false;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    return run('BatchMatMul', backend, { a, b }, attrs);
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const nA = batchA.reduce((p, d) => p * d, 1);
  const nB = batchB.reduce((p, d) => p * d, 1);
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  // Shape errors and broadcasting beyond "one side has a single matrix" stay with tfjs's kernel,
  // which reports or handles them.
  const batch = Math.max(nA, nB);
  const sameBatch = nA === nB && batchA.join() === batchB.join();
  if (k !== kb || !(sameBatch || nA === 1 || nB === 1)) {
    return run('BatchMatMul', backend, { a, b }, attrs);
  }
  const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const a3 = transposeA ? transpose(backend, view(a, [nA, k, m]), [0, 2, 1]) : view(a, [nA, m, k]);
  const b3 = transposeB ? transpose(backend, view(b, [nB, n, k]), [0, 2, 1]) : view(b, [nB, k, n]);
  let out: tf.TensorInfo;
  if (batch === 1) {
    out = product(backend, a3, b3);
  } else if (nB === 1) {
    // One weight matrix for every batch: a single [nA·m, k]·[k, n] product.
    out = product(backend, view(a3, [1, nA * m, k]), b3);
  } else {
    const parts: tf.TensorInfo[] = [];
    for (let i = 0; i < batch; i++) {
      const ai = nA === 1 ? a3 : slice(backend, a3, i);
      const bi = slice(backend, b3, i);
      parts.push(view(product(backend, ai, bi), [1, m, n]));
      if (ai !== a3) free(backend, ai);
      free(backend, bi);
    }
    out = run('Concat', backend, parts as unknown as Record<string, tf.TensorInfo>, { axis: 0 });
    free(backend, ...parts);
  }
  if (transposeA) free(backend, a3);
  if (transposeB) free(backend, b3);
  return view(out, [...outBatchShape, m, n]);
}

function product(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return run('BatchMatMul', backend, { a, b }, { transposeA: false, transposeB: false });
}

function slice(backend: WasmBackend, t: tf.TensorInfo, i: number): tf.TensorInfo {
  const [, r, c] = t.shape as [number, number, number];
  return run('Slice', backend, { x: t }, { begin: [i, 0, 0], size: [1, r, c] });
}
