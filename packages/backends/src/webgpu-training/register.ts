import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { forgetOriginals, rememberOriginal } from './webgpu-backend.js';

interface WebGPUTrainingKernel {
  kernelName: string;
  kernelFunc: tf.KernelFunc;
  why: string;
}

/** The kernels ebm.js registers on tfjs's webgpu backend, each replacing tfjs's, with the reason. */
export const WEBGPU_TRAINING_KERNELS: readonly WebGPUTrainingKernel[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
    why: "tfjs-webgpu's is one thread per weight looping over batch × H × W: im2col patches · dy as tiled matmuls",
  },
  {
    kernelName: 'MaxPoolGrad',
    kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
    why: 'tfjs-webgpu sends tied maxima (ReLU zeros) to the last element of the window, cpu and TensorFlow to the first',
  },
  {
    kernelName: 'UnsortedSegmentSum',
    kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
    why: 'tfjs-webgpu adds out-of-range ids into other rows instead of dropping them',
  },
];

const replaced = new Map<string, tf.KernelConfig>();

/**
 * Registers ebm.js's kernels on the webgpu backend (idempotent; after importing
 * `@tensorflow/tfjs-backend-webgpu`). `selectBackend()` does it whenever it starts webgpu.
 * Returns the names of the kernels registered.
 */
export function registerWebGPUTrainingKernels(): string[] {
  for (const kernel of WEBGPU_TRAINING_KERNELS) {
    const existing = tf.getKernel(kernel.kernelName, 'webgpu');
    if (existing?.kernelFunc === kernel.kernelFunc) continue;
    if (existing !== undefined) {
      rememberOriginal(kernel.kernelName);
      replaced.set(kernel.kernelName, existing);
      tf.unregisterKernel(kernel.kernelName, 'webgpu');
    }
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName: 'webgpu',
      kernelFunc: kernel.kernelFunc,
    });
  }
  return WEBGPU_TRAINING_KERNELS.map((k) => k.kernelName);
}

/** Restores tfjs-webgpu's own kernels (for comparisons and benchmarks). */
export function unregisterWebGPUTrainingKernels(): void {
  for (const kernel of WEBGPU_TRAINING_KERNELS) {
    if (tf.getKernel(kernel.kernelName, 'webgpu')?.kernelFunc !== kernel.kernelFunc) continue;
    tf.unregisterKernel(kernel.kernelName, 'webgpu');
    const original = replaced.get(kernel.kernelName);
    if (original !== undefined) tf.registerKernel(original);
  }
  replaced.clear();
  forgetOriginals();
}

export function webgpuTrainingKernelsRegistered(): boolean {
  return WEBGPU_TRAINING_KERNELS.every(
    (k) => tf.getKernel(k.kernelName, 'webgpu')?.kernelFunc === k.kernelFunc,
  );
}
