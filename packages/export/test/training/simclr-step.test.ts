import { Rng } from '@ebmjs/core';
import { convEncoder, projectionHead } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { experimental } from '../../src/index.js';
import { uniform } from '../helpers.js';
import { relErr, tfjsStep, toNchw, toTfjsLayout } from './reference.js';

useCpuBackend();

const { buildSimclrStep, OrtTrainingEngine } = experimental;

/** The demo's recipe at test size: convEncoder + projectionHead, NT-Xent τ = 0.5, Adam. */
function nets(size: number) {
  const enc = convEncoder({ inputShape: [size, size, 3], channels: [4, 8, 8], seed: 1 });
  const head = projectionHead({ inputDim: enc.embeddingDim, outputDim: 6, seed: 2 });
  return { encoder: enc.model, head: head.model };
}

describe('experimental SimCLR training step on onnxruntime-node', () => {
  // Odd size: 'same' max-pooling pads (9 → 5 → 3), so MaxPool's gradient goes through its
  // indices; even size: exact 2×2 tiling over ReLUs, the mask form.
  it.each([
    { size: 9, batch: 4, kind: 'adam', steps: 5, epsilon: 1e-7 },
    { size: 8, batch: 4, kind: 'sgd', steps: 3, epsilon: 0 },
  ] as const)(
    'size $size, $kind: loss, every gradient, weights and BatchNorm statistics after $steps steps equal tfjs',
    async ({ size, batch, kind, steps, epsilon }) => {
      const tau = 0.5;
      const lr = 1e-2;
      const { encoder, head } = nets(size);
      const graph = await buildSimclrStep(encoder, head, {
        batchSize: batch,
        temperature: tau,
        outputGradients: true,
        optimizer: kind === 'adam' ? { kind: 'adam', epsilon } : { kind: 'sgd', momentum: 0.9 },
      });
      const engine = await OrtTrainingEngine.create(ort as never, graph);
      const optimizer =
        kind === 'adam' ? tf.train.adam(lr, 0.9, 0.999, epsilon) : tf.train.momentum(lr, 0.9);
      const rng = new Rng(7);
      const dims = [batch, size, size, 3];
      const byVariable = new Map(
        graph.state.filter((s) => s.kind === 'weight').map((s) => [s.source!.variable.name, s]),
      );
      let worst = 0;
      for (let step = 0; step < steps; step++) {
        const v1 = uniform(rng, batch * size * size * 3, 0, 1);
        const v2 = uniform(rng, batch * size * size * 3, 0, 1);
        const ours = await engine.step(toNchw(v1, dims), toNchw(v2, dims), lr);
        const views = [tf.tensor4d(v1, dims as never), tf.tensor4d(v2, dims as never)] as [
          tf.Tensor4D,
          tf.Tensor4D,
        ];
        const ref = tfjsStep(encoder, head, views, optimizer, tau);
        tf.dispose(views);
        worst = Math.max(worst, Math.abs(ours.loss - ref.loss) / Math.abs(ref.loss));
        expect(
          Math.abs(ours.loss - ref.loss) / Math.abs(ref.loss),
          `loss at step ${step + 1}`,
        ).toBeLessThan(1e-4);
        expect(ref.grads.size).toBe(byVariable.size);
        for (const [name, g] of ref.grads) {
          const s = byVariable.get(name)!;
          const mine = ours.gradients.get(s.input)!;
          const perm = s.source!.perm;
          const back = perm === undefined ? mine : toTfjsLayout(mine, s.dims, perm);
          const e = relErr(back, g);
          worst = Math.max(worst, e);
          expect(e, `${name} gradient at step ${step + 1}`).toBeLessThan(1e-4);
        }
      }
      // After 5 steps: every weight and moving statistic as tfjs has it.
      const values = engine.tfjsValues();
      expect(values.length).toBe([...encoder.weights, ...head.weights].length);
      for (const v of values) {
        const e = relErr(v.data, v.variable.read().dataSync());
        worst = Math.max(worst, e);
        expect(e, `${v.variable.name} after ${steps} steps`).toBeLessThan(1e-4);
      }
      expect(engine.preallocatedOutputs).toBe(true);
      console.log(
        `${kind} size ${size}: worst relative error over ${steps} steps ${worst.toExponential(2)}`,
      );
      optimizer.dispose();
      await engine.release();
    },
    60_000,
  );
});
