// Runs in a child Node whose environment points Vulkan at SwiftShader (see webgpu.test.ts):
// selectBackend's webgpu candidate, then kernels and a tiny training run, printed as JSON.
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/index.js';

const mode = process.argv[2];
if (mode === 'train') {
  // A conv → ReLU → max-pool → dense net, 6 Adam steps: the loss must fall.
  await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
  const x = tf.randomNormal([8, 8, 8, 3], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
  const w1 = tf.variable(
    tf.randomNormal([3, 3, 3, 8], 0, 0.3, 'float32', 2),
  ) as tf.Variable<tf.Rank.R4>;
  const w2 = tf.variable(tf.randomNormal([4 * 4 * 8, 4], 0, 0.1, 'float32', 3));
  const optimizer = tf.train.adam(0.02);
  const losses: number[] = [];
  for (let step = 0; step < 6; step++) {
    const loss = optimizer.minimize(
      () => {
        const h = tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, w1, 1, 'same')), 2, 2, 'same');
        return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.reshape(h, [8, -1]), w2));
      },
      true,
      [w1, w2],
    )!;
    losses.push((await loss.data())[0]!);
    loss.dispose();
  }
  console.log(JSON.stringify({ losses }));
} else if (mode === 'default') {
  const info = await selectBackend({ env: {} });
  console.log(JSON.stringify({ candidate: info.candidate, attempts: info.attempts }));
} else {
  const info = await selectBackend({ env: { EBM_BACKEND: 'webgpu' } });
  const x = tf.tensor4d(
    Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i)),
    [2, 6, 6, 3],
  );
  const w = tf.tensor4d(
    Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
    [3, 3, 3, 4],
  );
  const f = (a: tf.Tensor4D, b: tf.Tensor4D) =>
    tf.sum(
      tf.relu(
        tf.maxPool(
          tf.batchNorm(
            tf.conv2d(a, b, 1, 'same'),
            [0.1, -0.2, 0.3, 0],
            [1, 2, 0.5, 1.5],
            [0, 0.1, 0, -0.1],
            [1, 0.5, 2, 1],
            1e-3,
          ),
          2,
          2,
          'same',
        ),
      ),
    );
  // Forward and gradients of conv2d → batchNorm → maxPool → relu, read asynchronously (no dataSync on Dawn).
  const runAll = async () => {
    const a = tf.tensor4d(await x.data(), x.shape);
    const b = tf.tensor4d(await w.data(), w.shape);
    const g = tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([a, b]);
    const outs = [f(a, b), ...g, tf.matMul(tf.reshape(a, [2, -1]), tf.reshape(a, [-1, 2]))];
    return Promise.all(outs.map(async (t) => Array.from(await t.data())));
  };
  const webgpu = await runAll();
  await tf.setBackend('cpu');
  const cpu = await runAll();
  const relErrors = cpu.map((ref, i) => {
    const scale = Math.max(...ref.map(Math.abs), 1e-30);
    return Math.max(...ref.map((r, j) => Math.abs(webgpu[i]![j]! - r))) / scale;
  });
  console.log(JSON.stringify({ info, relErrors }));
}
