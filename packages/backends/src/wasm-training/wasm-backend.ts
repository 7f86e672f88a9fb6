import { EbmError } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';

/** What the kernels use of tfjs-backend-wasm's `BackendWasm` (not exported by the package). */
export interface WasmBackend {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } | undefined };
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array; HEAPU8: Uint8Array };
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export type Attrs = Record<string, unknown>;
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
};

/**
 * The wasm backend's own kernels as they were before ebm.js replaced any of them, so a
 * replacement can call the original (a faster BatchMatMul still ends in the XNNPACK one).
 */
const originals = new Map<string, tf.KernelFunc>();

export function rememberOriginal(kernelName: string): void {
  if (originals.has(kernelName)) return;
  const config = tf.getKernel(kernelName, 'wasm');
  if (config !== undefined) originals.set(kernelName, config.kernelFunc);
}

export function originalKernel(kernelName: string): tf.KernelFunc | undefined {
  return originals.get(kernelName) ?? tf.getKernel(kernelName, 'wasm')?.kernelFunc;
}

/** Receives the time of every wasm kernel that an ebm.js kernel runs inside itself. */
export type SubkernelObserver = (kernelName: string, milliseconds: number) => void;
let observer: SubkernelObserver | undefined;

/**
 * Reports the wasm kernels that ebm.js's kernels call internally, with their times (tf.profile
 * sees only the outer kernel). For benchmarks; pass undefined to stop.
 */
export function observeSubkernels(callback: SubkernelObserver | undefined): void {
  observer = callback;
}

/** Runs a wasm kernel (the original one when ebm.js replaced it) inside another kernel. */
export function run(
  kernelName: string,
  backend: WasmBackend,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Attrs = {},
): tf.TensorInfo {
  const kernel = originalKernel(kernelName);
  if (kernel === undefined) {
    throw new EbmError(
      'UNSUPPORTED',
      `wasm-training: the wasm backend has no "${kernelName}" kernel; is @tensorflow/tfjs-backend-wasm 4.x loaded?`,
    );
  }
  if (observer === undefined) {
    return kernel({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  }
  const start = performance.now();
  const out = kernel({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  observer(kernelName, performance.now() - start);
  return out;
}

/** A reshaped view sharing `t`'s data: no kernel, no copy, nothing to dispose separately. */
export function view(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function free(backend: WasmBackend, ...infos: (tf.TensorInfo | undefined)[]): void {
  for (const t of infos) if (t !== undefined) backend.disposeData(t.dataId);
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function transpose(backend: WasmBackend, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return run('Transpose', backend, { x }, { perm });
}

export function zeros(backend: WasmBackend, shape: number[], dtype: tf.DataType = 'float32') {
  const out = backend.makeOutput(shape, dtype);
  backend.typedArrayFromHeap(out).fill(0);
  return out;
}
