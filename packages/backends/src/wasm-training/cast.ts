import type * as tf from '@tensorflow/tfjs-core';
import { type Attrs, free, type KernelArgs, run, type WasmBackend } from './wasm-backend.js';

interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

/**
 * Cast for the wasm backend that shares the data when the dtype does not change (autograd's
 * ReLU and Step gradients cast float32 to float32); tfjs's wasm Cast always copies. A cast to
 * bool is x ≠ 0: tfjs's wasm Cast copies the value into a byte instead (int32 −3 became 253).
 */
export function cast(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const dtype = (args.attrs as Attrs)['dtype'] as tf.DataType;
  if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
    const zero = backend.makeOutput([], x.dtype);
    backend.typedArrayFromHeap(zero)[0] = 0;
    const out = run('NotEqual', backend, { a: x, b: zero });
    free(backend, zero);
    return out;
  }
  if (dtype !== x.dtype || dtype === 'string' || dtype === 'complex64') {
    return run('Cast', backend, { x }, args.attrs as Attrs);
  }
  (backend as unknown as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype };
}
