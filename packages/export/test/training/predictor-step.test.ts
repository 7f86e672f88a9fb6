// The SimSiam step graph (buildPredictorStep): the encoder, projector and predictor each run
// twice per step, so every weight's gradient is a sum of two contributions; with
// `outputGradients` the graph exposes that sum as `<weight>/grad`. Loss and every gradient
// against tf.variableGrads of the recipe's loss on the same weights and views.
import { Rng } from '@ebmjs/core';
import { negativeCosine } from '@ebmjs/losses';
import { convEncoder, predictionHead, projectionHead } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { experimental } from '../../src/index.js';
import { uniform } from '../helpers.js';
import { toTfjsLayout } from './reference.js';

useCpuBackend();

describe('experimental SimSiam training step (buildPredictorStep) on onnxruntime-node', () => {
  it('outputs the loss and every summed gradient of weights used twice, equal to tfjs', async () => {
    const batch = 8;
    const enc = convEncoder({ inputShape: [8, 8, 1], channels: [4, 8], seed: 1 });
    const proj = projectionHead({
      inputDim: enc.embeddingDim,
      hiddenDim: 32,
      outputDim: 8,
      seed: 2,
    });
    const pred = predictionHead({ inputDim: 8, hiddenDim: 16, seed: 3 });
    const graph = await experimental.buildPredictorStep(enc.model, proj.model, pred.model, {
      batchSize: batch,
      outputGradients: true,
      optimizer: { kind: 'sgd', momentum: 0 },
      viewLayout: 'NHWC',
    });
    const engine = await experimental.OrtTrainingEngine.create(ort as never, graph);
    const rng = new Rng(3);
    const v1 = uniform(rng, batch * 64, 0, 1);
    const v2 = uniform(rng, batch * 64, 0, 1);
    const out = await engine.run({ view1: v1, view2: v2 }, { lr: 0 });
    await engine.release();

    const x1 = tf.tensor4d(v1, [batch, 8, 8, 1]);
    const x2 = tf.tensor4d(v2, [batch, 8, 8, 1]);
    const models = [enc.model, proj.model, pred.model];
    const vars = models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
    const d = negativeCosine();
    const project = (x: tf.Tensor) =>
      proj.model.apply(enc.model.apply(x, { training: true }), { training: true }) as tf.Tensor2D;
    const predict = (z: tf.Tensor) => pred.model.apply(z, { training: true }) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => {
      const z1 = project(x1);
      const z2 = project(x2);
      return tf.mul(tf.add(d(predict(z1), z2), d(predict(z2), z1)), 0.5) as tf.Scalar;
    }, vars);
    expect(Math.abs(out.loss - value.dataSync()[0]!)).toBeLessThan(1e-5);
    const weights = graph.state.filter((s) => s.kind === 'weight');
    expect(weights.length).toBe(vars.length);
    for (const s of weights) {
      const g = out.gradients.get(s.input)!;
      const ours = s.source!.perm ? toTfjsLayout(g, s.dims, s.source!.perm) : g;
      const ref = grads[(s.source!.variable.read() as tf.Variable).name]!.dataSync();
      // Scale floor 1e-3: the projector's last bias has an exactly zero gradient (the predictor's
      // BatchNorm removes a shift of z), which both sides compute as rounding noise.
      let worst = 0;
      let scale = 1e-3;
      ref.forEach((r, i) => {
        worst = Math.max(worst, Math.abs(ours[i]! - r));
        scale = Math.max(scale, Math.abs(r));
      });
      expect(worst / scale, s.source!.variable.name).toBeLessThan(1e-4);
    }
    tf.dispose([x1, x2, value, ...Object.values(grads)]);
    for (const m of models) m.dispose();
  });
});
