import { l2Normalize, logSumExp, Rng } from '@ebmjs/core';
import { convEncoder, MomentumEncoder, projectionHead } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { experimental } from '../../src/index.js';
import { uniform } from '../helpers.js';
import { relErr, toTfjsLayout } from './reference.js';

useCpuBackend();

const { buildMocoStep, OrtTrainingEngine } = experimental;

/** InfoNCE with cosine similarity against a queue, as @ebmjs/losses' infoNCE computes it. */
function infoNceRef(q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D, tau: number): tf.Scalar {
  const qn = l2Normalize(q, 1) as tf.Tensor2D;
  const positive = tf.div(tf.sum(tf.mul(qn, l2Normalize(k, 1)), 1), tau);
  const negatives = tf.div(tf.matMul(qn, l2Normalize(queue, 1) as tf.Tensor2D, false, true), tau);
  const logits = tf.concat([tf.expandDims(positive, 1), negatives], 1);
  return tf.mean(tf.sub(logSumExp(logits, 1), positive)) as tf.Scalar;
}

/** Rows of a [n, ...] buffer in the order `rows`. */
function gatherRows(data: Float32Array, rowSize: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * rowSize);
  for (let i = 0; i < rows.length; i++)
    out.set(data.subarray(rows[i]! * rowSize, (rows[i]! + 1) * rowSize), i * rowSize);
  return out;
}

describe('experimental MoCo training step on onnxruntime-node', () => {
  it('loss, query gradients, keys, weights, key EMA and statistics after 4 Adam steps equal tfjs (Shuffle BN, 2 groups)', async () => {
    const size = 9;
    const batch = 6;
    const queueSize = 10;
    const tau = 0.2;
    const lr = 1e-2;
    const m = 0.9;
    const enc = convEncoder({ inputShape: [size, size, 3], channels: [4, 8], seed: 1 });
    const head = projectionHead({ inputDim: enc.embeddingDim, outputDim: 5, seed: 2 });
    const momentum = new MomentumEncoder([enc.model, head.model], { momentum: m });
    const [keyEncoder, keyHead] = momentum.targets as [LayersModel, LayersModel];
    const graph = await buildMocoStep(enc.model, head.model, keyEncoder, keyHead, {
      batchSize: batch,
      queueSize,
      temperature: tau,
      keyGroups: [3, 3],
      optimizer: { kind: 'adam', epsilon: 1e-7 },
      outputGradients: true,
      viewLayout: 'NHWC',
    });
    expect(graph.data.map((d) => d.name)).toEqual(['queries', 'keys_0', 'keys_1', 'queue']);
    const kinds = graph.state.map((s) => s.kind);
    // Key weights and statistics follow by EMA; none is optimized.
    expect(kinds.filter((k) => k === 'momentum-target').length).toBe(
      [...keyEncoder.weights, ...keyHead.weights].length,
    );
    const engine = await OrtTrainingEngine.create(ort as never, graph);
    const optimizer: tf.Optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-7);
    const queue = tf.tidy(() =>
      l2Normalize(tf.randomNormal([queueSize, 5], 0, 1, 'float32', 3), 1),
    );
    const queueData = queue.dataSync() as Float32Array;
    const vars = [...enc.model.trainableWeights, ...head.model.trainableWeights].map(
      (w) => w.read() as tf.Variable,
    );
    const byVariable = new Map(
      graph.state.filter((s) => s.kind === 'weight').map((s) => [s.source!.variable.name, s]),
    );
    const data = new Rng(7);
    const rowSize = size * size * 3;
    const dims = [batch, size, size, 3] as [number, number, number, number];
    let worst = 0;
    const check = (e: number, what: string) => {
      worst = Math.max(worst, e);
      expect(e, what).toBeLessThan(1e-4);
    };
    for (let step = 1; step <= 4; step++) {
      const v1 = uniform(data, batch * rowSize, 0, 1);
      const v2 = uniform(data, batch * rowSize, 0, 1);
      // tfjs: keys by applyTraining with Shuffle BN (its own rng), then the query step and the EMA.
      const [x1, x2] = [tf.tensor4d(v1, dims), tf.tensor4d(v2, dims)];
      const keysRef = tf.tidy(() =>
        l2Normalize(momentum.applyTraining(x2, { groups: 2, rng: new Rng(100 + step) }), 1),
      );
      const { value, grads } = tf.variableGrads(
        () =>
          infoNceRef(
            head.model.apply(enc.model.apply(x1, { training: true }), {
              training: true,
            }) as tf.Tensor2D,
            keysRef as tf.Tensor2D,
            queue as tf.Tensor2D,
            tau,
          ),
        vars,
      );
      const refGrads = new Map(Object.entries(grads).map(([n, g]) => [n, g.dataSync()]));
      optimizer.applyGradients(grads);
      momentum.update();
      // ONNX: the same permutation (same rng draw), rows shuffled, keys cut into the two groups.
      const perm = new Rng(100 + step).permutation(batch);
      const shuffledKeys = gatherRows(v2, rowSize, perm);
      const ours = await engine.run(
        {
          queries: gatherRows(v1, rowSize, perm),
          keys_0: shuffledKeys.slice(0, 3 * rowSize),
          keys_1: shuffledKeys.slice(3 * rowSize),
          queue: queueData,
        },
        { lr, momentum: m },
      );
      const loss = value.dataSync()[0]!;
      check(Math.abs(ours.loss - loss) / Math.abs(loss), `loss at step ${step}`);
      const keyRows = new Int32Array(batch);
      perm.forEach((p, i) => {
        keyRows[p] = i;
      });
      check(
        relErr(gatherRows(ours.outputs.get('keys')!, 5, keyRows), keysRef.dataSync()),
        `keys at step ${step}`,
      );
      expect(refGrads.size).toBe(byVariable.size);
      for (const [name, g] of refGrads) {
        const s = byVariable.get(name)!;
        const mine = ours.gradients.get(s.input)!;
        const perm = s.source!.perm;
        const back = perm === undefined ? mine : toTfjsLayout(mine, s.dims, perm);
        check(relErr(back, g), `${name} gradient at step ${step}`);
      }
      tf.dispose([x1, x2, keysRef, value, ...Object.values(grads)]);
    }
    // Every query weight and statistic, and every key weight and statistic (the EMA), as tfjs has it.
    const values = engine.tfjsValues();
    expect(values.length).toBe(
      [...enc.model.weights, ...head.model.weights, ...keyEncoder.weights, ...keyHead.weights]
        .length,
    );
    for (const v of values)
      check(relErr(v.data, v.variable.read().dataSync()), `${v.variable.name} after 4 steps`);
    console.log(`moco: worst relative error over 4 steps ${worst.toExponential(2)}`);
    optimizer.dispose();
    momentum.dispose();
    queue.dispose();
    await engine.release();
  }, 60_000);
});
