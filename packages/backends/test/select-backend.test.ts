import { EbmError } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { canTrainConv, parseBackendName, selectBackend } from '../src/index.js';

// tfjs-node(-gpu) cannot be installed with their native addons here (their install script
// downloads libtensorflow), so in this workspace they are either absent or fail to load:
// selectBackend must fall through them to wasm. A machine with them installed picks them.
const nativeAvailable = async (specifier: string) => {
  try {
    await import(/* @vite-ignore */ specifier);
    return true;
  } catch {
    return false;
  }
};

const hasNodeGpu = await nativeAvailable('@tensorflow/tfjs-node-gpu');
const hasNative = hasNodeGpu || (await nativeAvailable('@tensorflow/tfjs-node'));

describe('selectBackend in Node', () => {
  // On a machine with libtensorflow the first candidate wins and there is nothing to fall back from.
  it.skipIf(hasNative)(
    'tries node-gpu, webgpu, node, wasm, cpu in order and reports why each fallback happened',
    async () => {
      const info = await selectBackend({ env: {} });
      expect(info.environment).toBe('node');
      expect(info.attempts.map((a) => a.candidate)).toEqual(['node-gpu', 'webgpu', 'node', 'wasm']);
      expect(info.attempts.slice(0, 3).every((a) => !a.ok && (a.reason ?? '').length > 0)).toBe(
        true,
      );
      expect(info.candidate).toBe('wasm');
      expect(info.backend).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(info.threads).toBeGreaterThanOrEqual(1);
      // tfjs's wasm backend has no Conv2DBackpropFilter (tfjs issue #8474) until ebm.js registers one.
      expect(info.canTrainConv).toBe(canTrainConv('wasm'));
      expect(info.notes.some((n) => n.includes('node-gpu unavailable'))).toBe(true);
    },
  );

  it('EBM_BACKEND forces a backend', async () => {
    const info = await selectBackend({ env: { EBM_BACKEND: 'cpu' } });
    expect(info.candidate).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.attempts).toHaveLength(1);
    expect(info.threads).toBe(1);
    expect(info.canTrainConv).toBe(true);
    expect(info.notes.join(' ')).toMatch(/too slow to train conv nets/);
  });

  it.skipIf(hasNodeGpu)(
    'a forced backend that cannot start fails loudly, naming the variable and the reason',
    async () => {
      const error = await selectBackend({ env: { EBM_BACKEND: 'node-gpu' } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EbmError);
      expect((error as EbmError).code).toBe('BACKEND_UNAVAILABLE');
      expect((error as EbmError).message).toMatch(
        /Backend "node-gpu" \(forced by EBM_BACKEND\) is not available: node-gpu: /,
      );
    },
  );

  it('uses a custom loader and reports a loader that registers nothing', async () => {
    const error = await selectBackend({
      backend: 'webgl',
      loaders: { webgl: async () => ({}) },
    }).catch((e: unknown) => e);
    expect((error as EbmError).code).toBe('BACKEND_UNAVAILABLE');
    expect((error as EbmError).message).toMatch(/did not register the "webgl" backend/);
  });

  it('rejects unknown backend names and bad thread counts', async () => {
    expect(() => parseBackendName('tpu')).toThrow(
      /Unknown backend "tpu". Expected one of: node-gpu, node, webgpu, webgl, wasm, cpu/,
    );
    expect(parseBackendName('TensorFlow')).toBe('node');
    await expect(selectBackend({ env: { EBM_BACKEND: 'tpu' } })).rejects.toThrow(EbmError);
    await expect(selectBackend({ threads: 0 })).rejects.toThrow(
      /threads must be a positive integer/,
    );
  });
});
