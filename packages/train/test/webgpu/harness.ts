// What the webgpu test files share. Dawn loads libvulkan.so.1 and the Vulkan loader reads
// VK_ICD_FILENAMES when the process starts, so each file re-runs itself in a child vitest whose
// environment points Vulkan at Chromium's SwiftShader (a CPU Vulkan driver); the child runs the
// webgpu tests, the parent checks the child's results. Also the tiny training run that the
// encoder tests share. Not a test file: vitest includes only *.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Encoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';

export const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
export const hasIcd = existsSync(ICD);
/** True inside the child vitest that runSelfOnWebGPU starts. */
export const inChild = process.env['EBM_WEBGPU_CHILD'] === '1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/**
 * Runs the test file at `fileUrl` (its `import.meta.url`) in a child vitest on SwiftShader;
 * returns how many of its tests passed and the names of those that failed.
 */
export function runSelfOnWebGPU(fileUrl: string): {
  passed: number;
  failed: string[];
  output: string;
} {
  const self = fileURLToPath(fileUrl);
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

/** 20 Adam steps of a linear read-out's cross-entropy on a fixed batch; the losses, read async. */
export async function trainSteps(encoder: Encoder, inputShape: number[], batch: number) {
  const x = tf.randomUniform([batch, ...inputShape], 0, 1, 'float32', 3);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 4),
      'int32',
    ),
    4,
  );
  const readout = tf.variable(tf.randomNormal([encoder.embeddingDim, 4], 0, 0.1, 'float32', 4));
  const optimizer = tf.train.adam(0.01);
  const vars = [...encoder.model.trainableWeights.map((w) => w.read() as tf.Variable), readout];
  const losses: number[] = [];
  for (let step = 0; step < 20; step++) {
    const loss = optimizer.minimize(
      () => {
        const features = encoder.model.apply(x, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(labels, tf.matMul(features, readout)) as tf.Scalar;
      },
      true,
      vars,
    )!;
    losses.push((await loss.data())[0]!);
    loss.dispose();
  }
  optimizer.dispose();
  tf.dispose([x, labels, readout]);
  return losses;
}
