import type * as tf from '@tensorflow/tfjs-core';
import { type KernelArgs, run } from './wasm-backend.js';

interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

/**
 * Identity for the wasm backend that shares the data (a reference count, as the cpu backend
 * does) instead of copying it. tfjs clones every tensor that a gradient needs (`tf.clone` runs
 * Identity), so the wasm copy cost a full memcpy of each saved activation per step. Tensors are
 * immutable and variables swap their dataId on assign, so sharing is safe.
 */
export function identity(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    return run('Identity', args.backend as never, { x });
  }
  (args.backend as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
