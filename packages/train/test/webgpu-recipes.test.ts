// trainSimCLR, trainMoCo and trainPIRL run unchanged on webgpu in Node (Dawn on SwiftShader),
// 2 steps each on 8 MNIST digits (SimCLR with its default augmentations, MoCo and PIRL with a
// flip: SwiftShader compiles each new shader in ~0.1 s): this file re-runs itself in a child vitest whose environment points Vulkan at
// Chromium's SwiftShader before the process starts (Dawn loads libvulkan.so.1 at startup).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@ebmjs/core';
import { convEncoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { augment, take, trainMoCo, trainPIRL, trainSimCLR } from '../src/index.js';
import { loadMnist } from '../src/node.js';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const inChild = process.env['EBM_WEBGPU_CHILD'] === '1';
const self = fileURLToPath(import.meta.url);

/** Runs this file in a child vitest on SwiftShader; returns the names of failed tests. */
function runSelfOnWebGPU(): { passed: number; failed: string[]; output: string } {
  const root = join(dirname(self), '..', '..', '..');
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', '@ebmjs/train', self],
    {
      cwd: root,
      encoding: 'utf8',
      // SwiftShader rasterises on the CPU: about a minute unloaded, several on a busy 2-core box.
      timeout: 400_000,
      env: {
        ...process.env,
        EBM_WEBGPU_CHILD: '1',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        EBM_BACKEND: 'webgpu',
        VK_ICD_FILENAMES: ICD,
        LD_LIBRARY_PATH: [dirname(ICD), process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':'),
      },
    },
  );
  const output = `${r.stdout}${r.stderr}`;
  const passed = Number(/Tests\s+(?:\d+ failed \| )?(\d+) passed/.exec(output)?.[1] ?? 0);
  const failed = [...output.matchAll(/FAIL .*? > (.*)/g)].map((m) => m[1]!);
  if (r.status !== 0 && failed.length === 0)
    failed.push(`exit ${r.status}: ${output.slice(-1500)}`);
  return { passed, failed, output };
}

const tiny = (size: number | null = 28) =>
  convEncoder({ inputShape: [size, size, 1], channels: [4, 8], seed: 1 });
const base = async () => ({
  dataset: take(await loadMnist({ split: 'test' }), 8, 3),
  epochs: 1,
  batchSize: 4,
  projectionDim: 8,
  seed: 4,
});

describe.runIf(inChild)('recipes on webgpu', () => {
  it('trainSimCLR: 2 steps, finite loss, on webgpu', async () => {
    await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    const result = await trainSimCLR({ ...(await base()), encoder: tiny() });
    expect(tf.getBackend()).toBe('webgpu');
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
    result.encoder.model.dispose();
  }, 380_000);

  it('trainMoCo: 2 steps, finite loss, on webgpu', async () => {
    await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    const result = await trainMoCo({
      ...(await base()),
      encoder: tiny(),
      queueSize: 8,
      augmentation: augment.horizontalFlip(),
    });
    expect(tf.getBackend()).toBe('webgpu');
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
  });

  it('trainPIRL: 2 steps, finite loss, on webgpu', async () => {
    await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
    const result = await trainPIRL({
      ...(await base()),
      encoder: tiny(null),
      augmentation: augment.horizontalFlip(),
    });
    expect(tf.getBackend()).toBe('webgpu');
    expect(result.steps).toBe(2);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
  });
});

describe.skipIf(inChild || !existsSync(ICD))('the recipes on webgpu (SwiftShader)', () => {
  it('trainSimCLR, trainMoCo and trainPIRL run unchanged on webgpu', () => {
    const { passed, failed } = runSelfOnWebGPU();
    expect(failed).toEqual([]);
    expect(passed).toBe(3);
  }, 420_000);
});
