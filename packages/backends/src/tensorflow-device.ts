import * as tf from '@tensorflow/tfjs-core';

/**
 * Where the 'tensorflow' backend computes, as its own fields say: tfjs-node's and tfjs-node-gpu's
 * NodeJSKernelBackend has `isGPUPackage` (which of the two packages it is) and `isUsingGpuDevice`
 * (whether libtensorflow found a GPU). undefined: the backend does not say.
 */
export interface TensorflowDevice {
  gpuPackage: boolean | undefined;
  usingGpu: boolean | undefined;
}

export function tensorflowDevice(): TensorflowDevice {
  const backend = tf.findBackend('tensorflow') as {
    isGPUPackage?: unknown;
    isUsingGpuDevice?: unknown;
  } | null;
  const flag = (value: unknown) => (typeof value === 'boolean' ? value : undefined);
  return {
    gpuPackage: flag(backend?.isGPUPackage),
    usingGpu: flag(backend?.isUsingGpuDevice),
  };
}

/** Why node-gpu cannot be reported, or undefined when the backend says it computes on a GPU. */
export function refuseUnverifiedGpu(device: TensorflowDevice): string | undefined {
  if (device.usingGpu === true) return undefined;
  if (device.gpuPackage === false)
    return 'the "tensorflow" backend in use is tfjs-node\'s CPU build, not tfjs-node-gpu';
  if (device.usingGpu === false)
    return 'tfjs-node-gpu loaded, but TensorFlow found no usable GPU (no CUDA device, or the CUDA/cuDNN libraries did not load) and would compute on the CPU';
  return 'the "tensorflow" backend does not report whether it uses a GPU (no isUsingGpuDevice), so a GPU could not be verified';
}
