import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { expect } from 'vitest';

/** Number of trainable scalars (what PyTorch's `sum(p.numel() for p in parameters())` counts). */
export function trainableCount(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce(
    (s, w) => s + w.shape.reduce<number>((a, b) => a * (b as number), 1),
    0,
  );
}

export function variablesOf(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Every class name in a model, nested models included. */
export function layerClasses(model: tfl.LayersModel): Set<string> {
  const out = new Set<string>();
  const visit = (m: tfl.LayersModel) => {
    for (const layer of m.layers) {
      out.add(layer.getClassName());
      if ((layer as unknown as tfl.LayersModel).layers !== undefined)
        visit(layer as unknown as tfl.LayersModel);
    }
  };
  visit(model);
  return out;
}

/** The layers @ebmjs/export converts (plus the one custom layer). */
export const EXPORTABLE = new Set([
  'InputLayer',
  'Dense',
  'Conv2D',
  'BatchNormalization',
  'Activation',
  'Add',
  'Concatenate',
  'GlobalAveragePooling2D',
  'MaxPooling2D',
  'Flatten',
  'L2Normalize',
  'Functional',
  'Model',
]);

/**
 * Forward + backward on the cpu backend: every trainable weight gets a finite, non-zero
 * gradient, and `steps` SGD steps lower `loss`. Returns [before, after].
 */
export function expectTrains(
  vars: tf.Variable[],
  loss: () => tf.Scalar,
  { steps = 5, learningRate = 0.05 } = {},
): [number, number] {
  const { value, grads } = tf.variableGrads(loss, vars);
  for (const v of vars) {
    const g = grads[v.name];
    expect(g, `gradient of ${v.name}`).toBeDefined();
    const stats = tf.tidy(() => [
      tf.all(tf.isFinite(g!)).dataSync()[0],
      tf.sum(tf.abs(g!)).dataSync()[0],
    ]);
    expect(stats[0], `gradient of ${v.name} is finite`).toBe(1);
    expect(stats[1]!, `gradient of ${v.name} is non-zero`).toBeGreaterThan(0);
  }
  const before = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  const opt = tf.train.sgd(learningRate);
  for (let i = 0; i < steps; i++) tf.dispose(opt.minimize(loss, true, vars) ?? []);
  const last = loss();
  const after = last.dataSync()[0]!;
  last.dispose();
  opt.dispose();
  expect(after).toBeLessThan(before);
  return [before, after];
}

export function norms(x: tf.Tensor): number[] {
  return Array.from(tf.tidy(() => tf.norm(x, 'euclidean', -1)).dataSync());
}
