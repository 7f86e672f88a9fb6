import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveOnnx } from '@ebmjs/export';
import { convEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import type { ImageDataset } from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { embedWithOnnx } from '../src/onnx-embed.js';

useCpuBackend();

let dir = '';
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('embedWithOnnx (the demo serving its encoder through @ebmjs/web-infer)', () => {
  it('applies the export metadata preprocessing and matches tfjs on the same pixels', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-onnx-embed-'));
    const encoder = convEncoder({ inputShape: [12, 12, 1], channels: [4, 8], seed: 3 });
    const path = join(dir, 'enc.onnx');
    await saveOnnx(encoder.model, path, { preprocessing: { scale: 1 / 255, mean: 0, std: 1 } });
    const n = 37; // not a multiple of the batch size: the last batch is partial
    const pixels = Uint8Array.from({ length: n * 144 }, (_, i) => (i * 7919) % 256);
    const ds: ImageDataset = {
      name: 'synthetic',
      imageShape: [12, 12, 1],
      pixels,
      labels: new Int32Array(n),
      classNames: ['x'],
    };
    const { embeddings, dim } = await embedWithOnnx(path, ds, { batchSize: 16 });
    expect(dim).toBe(8);
    const expected = tf.tidy(() => {
      const x = tf.div(tf.tensor4d(Float32Array.from(pixels), [n, 12, 12, 1]), 255);
      return (encoder.model.predict(x) as tf.Tensor).dataSync();
    });
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - embeddings[i]!));
    expect(embeddings.length).toBe(n * 8);
    expect(maxDiff).toBeLessThan(1e-5);
    // Not normalized: the rows keep their norms (the demo's probes standardize them).
    const norm = Math.hypot(...embeddings.subarray(0, 8));
    expect(Math.abs(norm - 1)).toBeGreaterThan(1e-3);
    encoder.model.dispose();
  });
});
