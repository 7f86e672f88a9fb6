import { EbmError } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { type ImageDataset, trainSimCLR } from '../src/index.js';

// What a browser bundle gets: `#node-io` under the "default" condition (no node:fs).
vi.mock('#node-io', () => import('../src/node-io.browser.js'));

useCpuBackend();

const dataset: ImageDataset = {
  name: 'noise',
  imageShape: [8, 8, 1],
  pixels: Uint8Array.from({ length: 8 * 64 }, (_, i) => (i * 37) % 256),
  labels: Int32Array.from({ length: 8 }, (_, i) => i % 2),
  classNames: ['a', 'b'],
};
const config = () => ({
  dataset,
  encoder: convEncoder({ inputShape: [8, 8, 1], channels: [2], seed: 1 }),
  projectionDim: 4,
  batchSize: 8,
});

describe('training outside Node', () => {
  it('refuses runDir before the first step, naming the path', async () => {
    let steps = 0;
    const error = await trainSimCLR({
      ...config(),
      runDir: 'runs/simclr',
      callbacks: { onStepEnd: () => void steps++ },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('UNSUPPORTED');
    expect((error as EbmError).message).toMatch(/runDir.*received "runs\/simclr"/);
    expect(steps).toBe(0);
  });

  it('trains without runDir and keeps the history in the result', async () => {
    const result = await trainSimCLR(config());
    expect(result.steps).toBe(1);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
    result.encoder.model.dispose();
    result.head.model.dispose();
  });
});
