import { describe, expect, it } from 'vitest';
import { configureRuntime, FeatureExtractor } from '../src/index.node.js';
import { l2, maxAbsDiff, modelPath, reference } from './helpers.js';

// This file's module instance holds one process-wide runtime: the tests run in order on it.
describe('configureRuntime on the real runtimes (onnxruntime-node cpu, onnxruntime-web wasm)', () => {
  const input = Float32Array.from(reference.models['mlp']!.inputs![0]!);
  const expected = l2(reference.embeddings['mlp']!['0']!);

  it('configured before the first session: cpu and wasm sessions run with it', async () => {
    configureRuntime({ threads: 2 });
    const cpu = await FeatureExtractor.create(modelPath('mlp'), { device: 'cpu' });
    const wasm = await FeatureExtractor.create(modelPath('mlp'), { device: 'wasm' });
    try {
      expect(maxAbsDiff(await cpu.extract(input), expected)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(await wasm.extract(input), expected)).toBeLessThanOrEqual(1e-5);
      const ort = (await import('onnxruntime-web')) as unknown as {
        env: { wasm: { numThreads?: number } };
      };
      expect(ort.env.wasm.numThreads).toBe(2);
    } finally {
      await cpu.dispose();
      await wasm.dispose();
    }
  });

  it('afterwards: a different configureRuntime or per-extractor value is INVALID_ARGUMENT, an equal one works', async () => {
    expect(() => configureRuntime({ threads: 4 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/already started with threads 2.*received threads 4/),
      }),
    );
    await expect(
      FeatureExtractor.create(modelPath('mlp'), { device: 'wasm', threads: 1 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/already configured: threads 2 .*received threads 1/),
    });
    configureRuntime({ threads: 2 });
    const same = await FeatureExtractor.create(modelPath('mlp'), { device: 'cpu', threads: 2 });
    expect(maxAbsDiff(await same.extract(input), expected)).toBeLessThanOrEqual(1e-5);
    await same.dispose();
  });
});
