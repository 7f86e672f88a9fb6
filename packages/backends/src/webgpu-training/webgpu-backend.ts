import { EbmError } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';

/** A compute shader as tfjs-webgpu's `runWebGPUProgram` takes it (the package does not export the type). */
export interface WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  /** Whether the shader reads `uniforms.size` (the output's element count). */
  size?: boolean;
  getUserCode(): string;
}

/** What the kernels use of tfjs-backend-webgpu's `WebGPUBackend`. */
export interface WebGPUBackend {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  runWebGPUProgram(
    program: WebGPUProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programDefinedUniform?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
}

export type Attrs = Record<string, unknown>;
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
};

/** tfjs-webgpu's own kernels as they were before ebm.js replaced any of them. */
const originals = new Map<string, tf.KernelFunc>();

export function rememberOriginal(kernelName: string): void {
  if (originals.has(kernelName)) return;
  const config = tf.getKernel(kernelName, 'webgpu');
  if (config !== undefined) originals.set(kernelName, config.kernelFunc);
}

export function forgetOriginals(): void {
  originals.clear();
}

/** Runs a webgpu kernel (tfjs's own when ebm.js replaced it) inside another kernel. */
export function run(
  kernelName: string,
  backend: WebGPUBackend,
  inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[],
  attrs: Attrs = {},
): tf.TensorInfo {
  const kernel = originals.get(kernelName) ?? tf.getKernel(kernelName, 'webgpu')?.kernelFunc;
  if (kernel === undefined) {
    throw new EbmError(
      'UNSUPPORTED',
      `webgpu-training: expected a "${kernelName}" kernel on webgpu, received none; is @tensorflow/tfjs-backend-webgpu 4.x loaded?`,
    );
  }
  return kernel({
    inputs: inputs as tf.NamedTensorInfoMap,
    backend: backend as unknown as tf.KernelBackend,
    attrs: attrs as tf.NamedAttrMap,
  }) as tf.TensorInfo;
}

export function free(backend: WebGPUBackend, ...infos: (tf.TensorInfo | undefined)[]): void {
  for (const t of infos) if (t !== undefined) backend.disposeData(t.dataId);
}

export function reshape(backend: WebGPUBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return run('Reshape', backend, { x }, { shape });
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A flat dispatch over `outputShape` (the backend folds one past a dimension's limit). */
export function flatDispatch(
  outputShape: number[],
  workgroupSize: number,
): Pick<WebGPUProgram, 'dispatchLayout' | 'dispatch' | 'workgroupSize'> {
  return {
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size(outputShape) / workgroupSize), 1, 1],
    workgroupSize: [workgroupSize, 1, 1],
  };
}
