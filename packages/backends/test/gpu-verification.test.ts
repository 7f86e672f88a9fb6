import { EbmError } from '@ebmjs/contract';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/index.js';

// tfjs-node and tfjs-node-gpu cannot be installed here (their install downloads libtensorflow).
// These stand-ins register a 'tensorflow' backend carrying the two fields the real
// NodeJSKernelBackend has: isGPUPackage (tfjs-node-gpu or tfjs-node) and isUsingGpuDevice
// (whether libtensorflow found a GPU). A tfjs-node-gpu without CUDA is isGPUPackage && !isUsingGpuDevice.
type Fields = { isGPUPackage?: boolean; isUsingGpuDevice?: boolean };

function registerTensorflow(fields: Fields): void {
  tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), fields));
}

/** A loader standing in for importing the package: importing it registers the backend. */
function standIn(fields: Fields) {
  let calls = 0;
  const load = async () => {
    calls++;
    registerTensorflow(fields);
    return {};
  };
  return { load, calls: () => calls };
}

const GPU: Fields = { isGPUPackage: true, isUsingGpuDevice: true };
const GPU_PACKAGE_WITHOUT_CUDA: Fields = { isGPUPackage: true, isUsingGpuDevice: false };
const CPU_PACKAGE: Fields = { isGPUPackage: false, isUsingGpuDevice: false };

afterEach(async () => {
  await tf.setBackend('cpu');
  if (tf.findBackendFactory('tensorflow') !== null) tf.removeBackend('tensorflow');
});

describe('selectBackend reports a GPU only when the backend says it uses one', () => {
  it('tfjs-node-gpu computing on a GPU is node-gpu on the gpu device', async () => {
    const gpu = standIn(GPU);
    const info = await selectBackend({
      env: {},
      order: ['node-gpu'],
      loaders: { 'node-gpu': gpu.load },
    });
    expect(info).toMatchObject({
      candidate: 'node-gpu',
      backend: 'tensorflow',
      device: 'gpu',
      threads: null,
    });
    expect(gpu.calls()).toBe(1);
  });

  it('EBM_BACKEND=node-gpu with a tfjs-node-gpu that found no GPU fails loudly and restores the backend', async () => {
    await tf.setBackend('cpu');
    const gpu = standIn(GPU_PACKAGE_WITHOUT_CUDA);
    const error = await selectBackend({
      env: { EBM_BACKEND: 'node-gpu' },
      loaders: { 'node-gpu': gpu.load },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('BACKEND_UNAVAILABLE');
    expect((error as EbmError).message).toMatch(
      /^Backend "node-gpu" \(forced by EBM_BACKEND\) is not available: node-gpu: tfjs-node-gpu loaded, but TensorFlow found no usable GPU/,
    );
    expect(tf.getBackend()).toBe('cpu');
  });

  it('in the default order the same package falls through to node and says it computes on the CPU', async () => {
    const gpu = standIn(GPU_PACKAGE_WITHOUT_CUDA);
    const info = await selectBackend({
      env: {},
      order: ['node-gpu', 'node', 'cpu'],
      loaders: { 'node-gpu': gpu.load, node: standIn(CPU_PACKAGE).load },
    });
    expect(info).toMatchObject({ candidate: 'node', backend: 'tensorflow', device: 'cpu' });
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.attempts.map((a) => [a.candidate, a.ok])).toEqual([
      ['node-gpu', false],
      ['node', true],
    ]);
    expect(info.notes).toContain(
      'the "tensorflow" backend is tfjs-node-gpu, but it found no GPU: it computes on the CPU',
    );
  });

  it('a tfjs-node registered by the host is not taken for node-gpu', async () => {
    registerTensorflow(CPU_PACKAGE);
    const gpu = standIn(GPU);
    const error = await selectBackend({
      backend: 'node-gpu',
      loaders: { 'node-gpu': gpu.load },
    }).catch((e: unknown) => e);
    expect((error as EbmError).code).toBe('BACKEND_UNAVAILABLE');
    expect((error as EbmError).message).toMatch(
      /node-gpu: the "tensorflow" backend in use is tfjs-node's CPU build/,
    );
    // The name was taken, so the package was not imported: the host's backend is what was checked.
    expect(gpu.calls()).toBe(0);
    const info = await selectBackend({ backend: 'node' });
    expect(info).toMatchObject({ candidate: 'node', device: 'cpu' });
  });

  it('asking for node on a host that registered tfjs-node-gpu on a GPU reports node-gpu', async () => {
    registerTensorflow(GPU);
    const info = await selectBackend({ backend: 'node' });
    expect(info).toMatchObject({ candidate: 'node-gpu', device: 'gpu', threads: null });
    expect(info.notes).toContain('the "tensorflow" backend is tfjs-node-gpu and computes on a GPU');
  });

  it('a backend that does not say where it computes cannot be node-gpu', async () => {
    const silent = standIn({});
    const error = await selectBackend({
      backend: 'gpu',
      loaders: { 'node-gpu': silent.load },
    }).catch((e: unknown) => e);
    expect((error as EbmError).message).toMatch(/a GPU could not be verified/);
  });
});
