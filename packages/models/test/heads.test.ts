import { EbmError } from '@ebmjs/core';
import { expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { convEncoder, mlpEncoder, pirlHeads, projectionHead } from '../src/index.js';
import {
  EXPORTABLE,
  expectTrains,
  layerClasses,
  norms,
  trainableCount,
  variablesOf,
} from './helpers.js';

useCpuBackend();

describe('projectionHead', () => {
  it('is SimCLR’s Dense-BN-ReLU-Dense by default, with named input and output', () => {
    const head = projectionHead({ inputDim: 16, hiddenDim: 12, outputDim: 8 });
    expect(head.inputDim).toBe(16);
    expect(head.outputDim).toBe(8);
    expect(head.model.inputNames).toEqual(['features']);
    expect(head.model.outputNames).toEqual(['projection']);
    expect(head.model.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'Dense',
      'BatchNormalization',
      'Activation',
      'Dense',
    ]);
    expect(trainableCount(head.model)).toBe(16 * 12 + 2 * 12 + (12 * 8 + 8));
    expect(head.model.countParams()).toBe(16 * 12 + 4 * 12 + (12 * 8 + 8));
    const y = tf.tidy(() => head.model.predict(tf.ones([3, 16])) as tf.Tensor);
    expect(y.shape).toEqual([3, 8]);
    y.dispose();
  });

  it('follows depth, batchNorm and l2Normalize', () => {
    const linear = projectionHead({ inputDim: 6, outputDim: 4, depth: 1 });
    expect(linear.model.countParams()).toBe(6 * 4 + 4);
    const deep = projectionHead({
      inputDim: 6,
      hiddenDim: 5,
      outputDim: 4,
      depth: 3,
      batchNorm: false,
    });
    expect(deep.model.countParams()).toBe(6 * 5 + 5 + (5 * 5 + 5) + (5 * 4 + 4));
    expect(layerClasses(deep.model).has('BatchNormalization')).toBe(false);
    const unit = projectionHead({ inputDim: 6, outputDim: 4, l2Normalize: true });
    expect(unit.model.outputNames).toEqual(['projection']);
    const y = tf.tidy(
      () => unit.model.predict(tf.randomNormal([5, 6], 0, 3, 'float32', 2)) as tf.Tensor,
    );
    expectClose(norms(y), [1, 1, 1, 1, 1], { atol: 1e-5 });
    y.dispose();
    expect(() => projectionHead({ inputDim: 6, depth: 0 })).toThrow(EbmError);
  });

  it('trains on top of an encoder', () => {
    const enc = mlpEncoder({ inputShape: 5, hiddenUnits: [6], embeddingDim: 6, seed: 1 });
    const head = projectionHead({ inputDim: enc.embeddingDim, outputDim: 3, seed: 2 });
    const x = tf.randomNormal([8, 5], 0, 1, 'float32', 3);
    const target = tf.randomNormal([8, 3], 0, 1, 'float32', 4);
    const loss = () =>
      tf.tidy(() => {
        const z = head.model.apply(enc.model.apply(x, { training: true }), {
          training: true,
        }) as tf.Tensor;
        return tf.mean(tf.square(tf.sub(z, target))) as tf.Scalar;
      });
    expectTrains([...variablesOf(enc.model), ...variablesOf(head.model)], loss);
  });
});

describe('pirlHeads', () => {
  const build = () => {
    const encoder = convEncoder({ inputShape: [null, null, 1], channels: [3, 4], seed: 5 });
    const heads = pirlHeads({
      encoder,
      imageShape: [8, 8, 1],
      patchShape: [4, 4, 1],
      projectionDim: 6,
      patchDim: 5,
    });
    return { encoder, heads };
  };

  it('builds f and g around one shared encoder', () => {
    const { encoder, heads } = build();
    expect(heads.numPatches).toBe(9);
    expect(heads.projectionDim).toBe(6);
    expect(heads.joint.inputNames).toEqual([
      'image',
      ...Array.from({ length: 9 }, (_, i) => `patch_${i}`),
    ]);
    expect(heads.joint.outputNames).toEqual(['pirl_f', 'pirl_g']);
    const encParams = encoder.model.countParams();
    expect(heads.f.countParams()).toBe(encParams + 4 * 6 + 6);
    expect(heads.g.countParams()).toBe(encParams + (4 * 5 + 5) + (9 * 5 * 6 + 6));
    // The joint model counts the encoder once: its layers are shared, not copied.
    expect(heads.joint.countParams()).toBe(encParams + 4 * 6 + 6 + (4 * 5 + 5) + (9 * 5 * 6 + 6));
    const encVars = new Set(encoder.model.weights.map((w) => w.read()));
    const inF = heads.f.weights.filter((w) => encVars.has(w.read())).length;
    const inG = heads.g.weights.filter((w) => encVars.has(w.read())).length;
    expect(inF).toBe(encoder.model.weights.length);
    expect(inG).toBe(encoder.model.weights.length);
    for (const c of layerClasses(heads.joint)) expect(EXPORTABLE.has(c), c).toBe(true);
  });

  it('embeds images and jigsaw patches; g depends on the patch order', () => {
    const { heads } = build();
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1);
    const patches = tf.randomUniform([2, 9, 4, 4, 1], 0, 1, 'float32', 2);
    const f = heads.applyF(images);
    const g = heads.applyG(patches);
    expect(f.shape).toEqual([2, 6]);
    expect(g.shape).toEqual([2, 6]);
    const asList = heads.applyG(tf.unstack(patches, 1));
    expectClose(asList.dataSync(), g.dataSync(), { atol: 1e-6 });
    const shuffled = tf.tidy(() => tf.gather(patches, [1, 0, 2, 3, 4, 5, 6, 7, 8], 1));
    const g2 = heads.applyG(shuffled);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(g, g2)))).dataSync()[0]).toBeGreaterThan(1e-4);
    expect(() => heads.applyG(tf.zeros([2, 8, 4, 4, 1]))).toThrow(EbmError);
    tf.dispose([images, patches, f, g, asList, shuffled, g2]);
  });

  it('trains the shared encoder through both heads', () => {
    const { encoder, heads } = build();
    const images = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 3);
    const patches = tf.randomUniform([3, 9, 4, 4, 1], 0, 1, 'float32', 4);
    // Pull f(I) and g(patches of I) together: the shape of PIRL's positive term.
    const loss = () =>
      tf.tidy(
        () =>
          tf.mean(
            tf.square(tf.sub(heads.applyF(images, true), heads.applyG(patches, true))),
          ) as tf.Scalar,
      );
    const kernel = encoder.model.getLayer('conv_encoder_block1_conv').getWeights()[0]!;
    const before = kernel.dataSync().slice();
    expectTrains(variablesOf(heads.joint), loss, { learningRate: 0.1 });
    const after = encoder.model.getLayer('conv_encoder_block1_conv').getWeights()[0]!.dataSync();
    expect(Array.from(after)).not.toEqual(Array.from(before));
  });

  it('checks shapes against a fixed-size encoder and leaks nothing', async () => {
    const fixed = convEncoder({ inputShape: [8, 8, 1], channels: [2] });
    expect(() => pirlHeads({ encoder: fixed, patchShape: [4, 4, 1] })).toThrow(/does not fit/);
    const heads = pirlHeads({ encoder: fixed, projectionDim: 3, numPatches: 4 });
    expect(heads.numPatches).toBe(4);
    const patches = tf.ones([1, 4, 8, 8, 1]);
    await expectNoTensorLeak(() => heads.applyG(patches));
    expect(() => pirlHeads({ encoder: convEncoder({ inputShape: [null, null, 1] }) })).toThrow(
      /fully specified/,
    );
  });
});
