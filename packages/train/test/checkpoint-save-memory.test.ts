import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/loop/checkpoint-files.js';
import { createOptimizer } from '../src/optim/create-optimizer.js';

describe('saveCheckpoint', () => {
  let dir = '';
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'ebm-ckpt-memory-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // tfjs's Adam and momentum SGD and ebm.js's AdamW return a fresh int32 `iter` scalar from
  // getWeights (cast to float32 for the bundle); LARS returns only its variables.
  for (const name of ['adam', 'adamw', 'sgd', 'lars'] as const) {
    it(`leaves no tensor behind with ${name}, and keeps the optimizer's slots`, async () => {
      const model = tfl.sequential({
        layers: [tfl.layers.dense({ units: 3, inputShape: [4] })],
      });
      const optimizer = createOptimizer({ name, learningRate: 0.01, momentum: 0.9 });
      const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const x = tf.ones([2, 4]);
      optimizer.minimize(() => tf.sum(model.predict(x) as tf.Tensor) as tf.Scalar);
      const content = { models: { encoder: model }, optimizer, trainable, state: { step: 1 } };
      await saveCheckpoint(join(dir, `${name}-1`), content);
      const before = tf.memory().numTensors;
      await saveCheckpoint(join(dir, `${name}-2`), content);
      await saveCheckpoint(join(dir, `${name}-3`), content);
      expect(tf.memory().numTensors).toBe(before);
      // The slots are still alive: a later step and save work.
      optimizer.minimize(() => tf.sum(model.predict(x) as tf.Tensor) as tf.Scalar);
      await saveCheckpoint(join(dir, `${name}-4`), content);
      tf.dispose([x]);
      model.dispose();
      optimizer.dispose();
    });
  }
});
