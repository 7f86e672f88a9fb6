import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  canTrainConv,
  nodeSupportsWasmThreads,
  registerWasmTrainingKernels,
  selectBackend,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  wasmTrainingKernelsRegistered,
} from '../../src/index.js';
import { compareBackends } from './compare.js';

// This file's process starts wasm through selectBackend, on 2 threads: the threaded-SIMD build
// that tfjs alone never uses in Node.
describe('selectBackend starts wasm with the training kernels and threads', () => {
  it('registers the kernels and reports the threads it computes with', async () => {
    const info = await selectBackend({ backend: 'wasm', threads: 2, env: {} });
    expect(info.backend).toBe('wasm');
    expect(info.canTrainConv).toBe(true);
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    for (const k of WASM_TRAINING_KERNELS) {
      expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
    }
    if (nodeSupportsWasmThreads()) {
      expect(info.threads).toBe(2);
      expect(info.notes.join(' ')).toMatch(/2 threads \(tfjs's threaded-SIMD build\)/);
    } else {
      expect(info.threads).toBe(1);
    }
  });

  it('conv gradients on the threaded build match the cpu backend', async () => {
    const { relErrors } = await compareBackends(
      [{ shape: [4, 12, 12, 8] }, { shape: [3, 3, 8, 16] }],
      (x, f) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))),
        )([x!, f!]),
    );
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });

  it('rejects a bad EBM_WASM_THREADS loudly', async () => {
    await expect(
      selectBackend({ backend: 'wasm', env: { EBM_WASM_THREADS: 'two' } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('unregistering restores tfjs own kernels; registering again is idempotent', async () => {
    await tf.setBackend('wasm');
    const mine = tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc;
    const leanBatchNormGrad = tf.getGradient('FusedBatchNorm')!.gradFunc;
    unregisterWasmTrainingKernels();
    expect(tf.getGradient('FusedBatchNorm')!.gradFunc).not.toBe(leanBatchNormGrad);
    expect(wasmTrainingKernelsRegistered()).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(canTrainConv('wasm')).toBe(false);
    const original = tf.getKernel('Conv2DBackpropInput', 'wasm')!;
    expect(original.kernelFunc).not.toBe(mine);
    // tfjs's own kernel still runs (its setup ran when the backend started).
    const dx = tf.tidy(() =>
      tf
        .conv2dTranspose(
          tf.ones([1, 2, 2, 2]) as tf.Tensor4D,
          tf.ones([2, 2, 1, 2]) as tf.Tensor4D,
          [1, 4, 4, 1],
          2,
          'same',
        )
        .dataSync(),
    );
    expect(Array.from(dx)).toEqual(new Array(16).fill(2));
    const names = registerWasmTrainingKernels();
    expect(registerWasmTrainingKernels()).toEqual(names);
    expect(names).toContain('Conv2DBackpropFilter');
    expect(canTrainConv('wasm')).toBe(true);
  });
});
