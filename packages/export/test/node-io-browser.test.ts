import { readdir } from 'node:fs/promises';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it, vi } from 'vitest';
import { exportOnnx, saveOnnx, tritonConfig, writeTritonRepository } from '../src/index.js';

// What a bundler resolves `#node-io` to outside Node (the package.json "imports" default).
vi.mock('#node-io', () => import('../src/node-io.browser.js'));

useCpuBackend();

const mlp = () =>
  tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, name: 'd' })] });

describe('export outside Node (#node-io browser variant)', () => {
  it('exports and configures in memory; the file writers refuse with UNSUPPORTED and touch no file', async () => {
    const before = await readdir('.');
    const bytes = await exportOnnx(mlp());
    expect(tritonConfig(bytes, { name: 'enc' })).toContain('name: "enc"');
    await expect(saveOnnx(mlp(), 'browser-model.onnx')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('exportOnnx(model)'),
    });
    await expect(
      writeTritonRepository(bytes, 'browser-repo', { name: 'enc' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('tritonConfig(bytes)'),
    });
    await expect(writeTritonRepository('model.onnx', 'browser-repo')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('pass the model bytes'),
    });
    expect(await readdir('.')).toEqual(before);
  });
});
