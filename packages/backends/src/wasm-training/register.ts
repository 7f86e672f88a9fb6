import * as tf from '@tensorflow/tfjs-core';
import { batchMatMul } from './batch-matmul.js';
import { fusedBatchNorm } from './batch-norm.js';
import { cast } from './cast.js';
import { broadcastComparison, COMPARISONS } from './comparisons.js';
import { conv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { conv2dBackpropInput } from './conv2d-backprop-input.js';
import {
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
} from './depthwise-conv2d-backprop.js';
import { installGradients, restoreGradients } from './gradients.js';
import { identity } from './identity.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { mean, sum } from './reductions.js';
import { tile } from './tile.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { rememberOriginal } from './wasm-backend.js';

interface TrainingKernel {
  kernelName: string;
  kernelFunc: tf.KernelFunc;
  /** Whether the wasm backend has its own kernel that this one replaces (it stays callable). */
  replaces: boolean;
  why: string;
}

/** The kernels ebm.js registers on the wasm backend, with the reason for each. */
export const WASM_TRAINING_KERNELS: readonly TrainingKernel[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
    replaces: false,
    why: 'missing in tfjs-backend-wasm 4.22 (tfjs#8474): no Conv2D could train',
  },
  {
    kernelName: 'Conv2DBackpropInput',
    kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
    replaces: true,
    why: 'the wasm one is a scalar C++ loop, ~10x slower than XNNPACK convolutions',
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    kernelFunc: depthwiseConv2dBackpropFilter as unknown as tf.KernelFunc,
    replaces: false,
    why: 'missing in tfjs-backend-wasm 4.22: no depthwise conv could train',
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    kernelFunc: depthwiseConv2dBackpropInput as unknown as tf.KernelFunc,
    replaces: false,
    why: 'missing in tfjs-backend-wasm 4.22: no depthwise conv could train',
  },
  {
    kernelName: 'UnsortedSegmentSum',
    kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
    replaces: false,
    why: 'missing in tfjs-backend-wasm 4.22: the gradient of tf.gather needs it',
  },
  {
    kernelName: 'BatchMatMul',
    kernelFunc: batchMatMul as unknown as tf.KernelFunc,
    replaces: true,
    why: 'transpose flags (every MatMul gradient) and batches fall off XNNPACK onto a ~13x slower loop',
  },
  {
    kernelName: 'Tile',
    kernelFunc: tile as unknown as tf.KernelFunc,
    replaces: true,
    why: "per-element index math; tfjs-core's FusedBatchNorm gradient tiles to the activation shape",
  },
  {
    kernelName: 'Sum',
    kernelFunc: sum as unknown as tf.KernelFunc,
    replaces: true,
    why: 'reducing leading/middle axes (BatchNorm gradients) transposes the input first',
  },
  {
    kernelName: 'Mean',
    kernelFunc: mean as unknown as tf.KernelFunc,
    replaces: true,
    why: 'reducing leading/middle axes (BatchNorm statistics, global pooling) transposes first',
  },
  {
    kernelName: 'MaxPoolGrad',
    kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
    replaces: true,
    why: 'the wasm one re-scans every window for each input element',
  },
  {
    kernelName: 'Identity',
    kernelFunc: identity as unknown as tf.KernelFunc,
    replaces: true,
    why: 'tfjs clones every tensor saved for a gradient; the wasm Identity copies the data',
  },
  {
    kernelName: 'Cast',
    kernelFunc: cast as unknown as tf.KernelFunc,
    replaces: true,
    why: 'a same-dtype cast (ReLU/Step gradients) copies the data',
  },
  {
    kernelName: 'FusedBatchNorm',
    kernelFunc: fusedBatchNorm as unknown as tf.KernelFunc,
    replaces: true,
    why: 'the wasm one is a scalar loop; x·a + b with per-channel a, b is two SIMD passes',
  },
  ...COMPARISONS.map((kernelName) => ({
    kernelName,
    kernelFunc: broadcastComparison(kernelName),
    replaces: true,
    why: 'broadcasting compares index per element (~20× slower than equal shapes)',
  })),
];

const replaced = new Map<string, tf.KernelConfig>();
let registered = false;

/**
 * Registers ebm.js's training kernels on the wasm backend (idempotent). Call it after importing
 * `@tensorflow/tfjs-backend-wasm`, before or after the backend initialises; `selectBackend()`
 * does it whenever it picks wasm. Returns the names of the kernels registered.
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered) return WASM_TRAINING_KERNELS.map((k) => k.kernelName);
  for (const kernel of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(kernel.kernelName, 'wasm');
    let setupFunc: tf.KernelSetupFunc | undefined;
    if (existing !== undefined) {
      rememberOriginal(kernel.kernelName);
      replaced.set(kernel.kernelName, existing);
      // The original's setup (its cwrap into the wasm module) must still run when the backend
      // initialises after this call, so that the replacement can call it.
      setupFunc = existing.setupFunc;
      tf.unregisterKernel(kernel.kernelName, 'wasm');
    }
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName: 'wasm',
      kernelFunc: kernel.kernelFunc,
      ...(setupFunc !== undefined ? { setupFunc } : {}),
    });
  }
  installGradients();
  registered = true;
  return WASM_TRAINING_KERNELS.map((k) => k.kernelName);
}

/** Restores the wasm backend's own kernels (for comparisons and tests). */
export function unregisterWasmTrainingKernels(): void {
  if (!registered) return;
  for (const kernel of WASM_TRAINING_KERNELS) {
    tf.unregisterKernel(kernel.kernelName, 'wasm');
    const original = replaced.get(kernel.kernelName);
    if (original !== undefined) tf.registerKernel(original);
  }
  replaced.clear();
  restoreGradients();
  registered = false;
}

export function wasmTrainingKernelsRegistered(): boolean {
  return registered;
}
