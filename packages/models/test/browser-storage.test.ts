import { EbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { loadEncoder, memoryStorage, mlpEncoder, saveModel } from '../src/index.js';

// What a browser bundle gets: `#node-io` under the "default" condition (no node:fs).
vi.mock('#node-io', () => import('../src/node-io.browser.js'));

useCpuBackend();

describe('saving outside Node', () => {
  it('a directory path is UNSUPPORTED, naming the path and the Storage alternative', async () => {
    const encoder = mlpEncoder({ inputShape: 4, hiddenUnits: [3], embeddingDim: 2 });
    const error = await saveModel(encoder, 'runs/encoder').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('UNSUPPORTED');
    expect((error as EbmError).message).toMatch(/Storage.*received the path "runs\/encoder"/);
    encoder.model.dispose();
  });

  it('a Storage object saves and loads as in Node', async () => {
    const encoder = mlpEncoder({ inputShape: 4, hiddenUnits: [3], embeddingDim: 2 });
    const storage = memoryStorage();
    await saveModel(encoder, storage);
    const loaded = await loadEncoder(storage);
    expect(loaded.embeddingDim).toBe(2);
    expect(loaded.model.getWeights().map((w) => w.shape)).toEqual(
      encoder.model.getWeights().map((w) => w.shape),
    );
    encoder.model.dispose();
    loaded.model.dispose();
  });
});
