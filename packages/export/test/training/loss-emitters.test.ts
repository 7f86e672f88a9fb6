// The losses of the joint-embedding and predictor steps, emitted as ONNX ops, against
// @ebmjs/losses' own functions: the value and the gradient with respect to each input, through
// the same reverse-mode rules the training steps use (op-harness: loss·R, dloss = R).
import { barlowTwins, negativeCosine, vicReg } from '@ebmjs/losses';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { emitBarlowTwins } from '../../src/training/barlow-twins.js';
import { emitSymmetricNegativeCosine } from '../../src/training/negative-cosine.js';
import { emitVicReg } from '../../src/training/vicreg.js';
import { gradError, type OpCase } from './op-harness.js';

useCpuBackend();

const N = 6;
const D = 5;
const z = { shape: [N, D], lo: -2, hi: 2 };

const CASES: Record<string, OpCase> = {
  'vicReg (paper weights)': {
    inputs: [z, z],
    onnx: (b, [z1, z2]) =>
      emitVicReg(
        b,
        z1!,
        z2!,
        { batch: N, dim: D },
        {
          invariance: 25,
          variance: 25,
          covariance: 1,
          gamma: 1,
          epsilon: 1e-4,
        },
      ),
    tfjs: (z1, z2) => vicReg()(z1 as tf.Tensor2D, z2 as tf.Tensor2D),
  },
  // γ = 2 above most standard deviations: the variance hinge is active in most dimensions.
  'vicReg (γ 2, other weights)': {
    inputs: [z, z],
    onnx: (b, [z1, z2]) =>
      emitVicReg(
        b,
        z1!,
        z2!,
        { batch: N, dim: D },
        {
          invariance: 3,
          variance: 7,
          covariance: 0.5,
          gamma: 2,
          epsilon: 1e-3,
        },
      ),
    tfjs: (z1, z2) =>
      vicReg({ invariance: 3, variance: 7, covariance: 0.5, gamma: 2, epsilon: 1e-3 })(
        z1 as tf.Tensor2D,
        z2 as tf.Tensor2D,
      ),
  },
  barlowTwins: {
    inputs: [z, z],
    onnx: (b, [z1, z2]) =>
      emitBarlowTwins(b, z1!, z2!, { batch: N, dim: D }, { lambda: 0.05, epsilon: 1e-5 }),
    tfjs: (z1, z2) => barlowTwins({ lambda: 0.05 })(z1 as tf.Tensor2D, z2 as tf.Tensor2D),
  },
  // Predictions p1, p2 and targets t1, t2: the targets get no gradient in either.
  'symmetric negativeCosine': {
    inputs: [z, z, { ...z, grad: false }, { ...z, grad: false }],
    onnx: (b, [p1, p2, t1, t2]) => emitSymmetricNegativeCosine(b, [p1!, p2!], [t1!, t2!]),
    tfjs: (p1, p2, t1, t2) => {
      const d = negativeCosine();
      return tf.mul(
        tf.add(d(p1 as tf.Tensor2D, t2 as tf.Tensor2D), d(p2 as tf.Tensor2D, t1 as tf.Tensor2D)),
        0.5,
      );
    },
  },
};

describe('step losses in ONNX ops against @ebmjs/losses, ≤ 1e-4 relative', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      const { forward, grads } = await gradError({ ...c, seed: 5 });
      expect(forward, 'loss').toBeLessThan(1e-5);
      grads.forEach((e, k) => expect(e, `gradient of input ${k}`).toBeLessThan(1e-4));
    });
  }

  it('the targets of the negative cosine are behind the stop-gradient: the loss does not depend on them', async () => {
    const c = CASES['symmetric negativeCosine']!;
    await expect(gradError({ ...c, inputs: [z, z, z, z] })).rejects.toMatchObject({
      message: expect.stringContaining('does not depend on "x2"'),
    });
  });
});
