import { resolveOptions } from '@ebmjs/contract';
import { ops, stopGradient, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput } from './checks.js';
import type { TwoViewLoss } from './nt-xent.js';

/** No options yet; the object is checked so that a misspelt key is an error. */
export type NegativeCosineOptions = Record<string, never>;

/**
 * The BYOL / SimSiam loss D(p, z) = −mean_i cos(p_i, stopgrad(z_i)) (Chen & He 2021; BYOL's
 * 2 − 2 cos is the same up to an affine map): `p` is the online branch's prediction, `z` the
 * target branch's projection, which gets no gradient (core's `stopGradient`, the samplers' one).
 * The symmetrised loss of both papers is ½ D(p1, z2) + ½ D(p2, z1).
 */
export function negativeCosine(options: NegativeCosineOptions = {}): TwoViewLoss {
  resolveOptions('negativeCosine', options, {});
  return (p, z) => {
    assertFloatInput(p, 2, 'negativeCosine: p');
    assertFloatInput(z, 2, 'negativeCosine: z');
    validate.assertSameShape(p, 'negativeCosine: p', z, 'negativeCosine: z');
    assertAtLeast(p.shape[0]!, 1, 'negativeCosine: batch size', 'the loss is a mean over rows.');
    return tf.tidy(
      () =>
        tf.neg(
          tf.mean(ops.pairedCosine(p as tf.Tensor2D, stopGradient(z) as tf.Tensor2D)),
        ) as tf.Scalar,
    );
  };
}
