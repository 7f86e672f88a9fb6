import { resolveOptions } from '@ebmjs/contract';
import { EbmError, stopGradient, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertAtLeast, assertFloatInput, assertPositive } from './checks.js';
import { assertDistance, cosine, type Distance, score } from './distances.js';
import { assertNegatives, candidateScores } from './info-nce.js';
import { logAddExp } from './masked.js';
import { assertReducer, mean, type Reducer } from './reducers.js';

export interface PirlNceOptions {
  /** τ > 0. Default 0.07 (PIRL). */
  temperature?: number;
  /**
   * How h is computed. 'nce' (default): the binary noise-contrastive classifier with a uniform
   * noise prior, P(data | v) = p / (p + K/N), as VISSL implements PIRL. 'infonce': the
   * softmax form exp(s⁺/τ) / (exp(s⁺/τ) + Σ_negatives exp(s/τ)) as the lecture writes it.
   */
  mode?: 'nce' | 'infonce';
  /**
   * Weight of the transform-to-memory term; the image-to-memory term gets 1 − λ (PIRL eq. 5).
   * Used only when `memory` (the bank entries m_I of the batch's images) is passed. Default 0.5.
   */
  lambda?: number;
  /**
   * 'nce' mode: log of the normaliser Z in p = exp(s/τ)/Z. Default: estimated from the batch
   * as VISSL does, Z = mean(exp(s/τ)) · N, and treated as a constant. A fixed value needs
   * `datasetSize`.
   */
  logZ?: number;
  /** 'nce' mode with a fixed `logZ`: N, the number of images in the memory bank / data set. */
  datasetSize?: number;
  similarity?: Distance;
  /** Reduces the per-image losses. Default mean. */
  reducer?: Reducer;
}

/**
 * image = f(v_I) [N, d], transformed = g(v_It) [N, d], negatives: bank entries of other images
 * f(v_I') as [K, d] shared or [N, K, d] per image, memory: the bank entries m_I [N, d] of the
 * batch's own images (optional).
 */
export type PirlNceLoss = (
  image: tf.Tensor,
  transformed: tf.Tensor,
  negatives: tf.Tensor,
  memory?: tf.Tensor,
) => tf.Scalar;

/**
 * PIRL's NCE loss (Misra & van der Maaten 2020), as the lecture writes it:
 *   L_NCE(v, m) = −log h(v, m) − Σ_{I' ∈ negatives} log(1 − h(v, m_I')),
 * with cosine s, where the anchor v is compared with its positive m and with each negative.
 * Without `memory`: L = L_NCE(g(v_It), f(v_I)). With it (PIRL eq. 5):
 *   L = λ L_NCE(g(v_It), m_I) + (1 − λ) L_NCE(f(v_I), m_I).
 */
export function pirlNCE(options: PirlNceOptions = {}): PirlNceLoss {
  const { temperature, mode, lambda, logZ, datasetSize, similarity, reducer } = resolveOptions(
    'pirlNCE',
    options,
    {
      temperature: 0.07,
      mode: 'nce',
      lambda: 0.5,
      logZ: undefined,
      datasetSize: undefined,
      similarity: cosine(),
      reducer: mean(),
    },
  );
  assertPositive(temperature, 'pirlNCE: temperature');
  validate.assertNumber(lambda, 'pirlNCE: lambda', { min: 0, max: 1 });
  assertDistance(similarity, 'pirlNCE: similarity');
  assertReducer(reducer, 'pirlNCE: reducer');
  if (mode !== 'nce' && mode !== 'infonce') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `pirlNCE: mode must be 'nce' or 'infonce', received ${String(mode)}.`,
    );
  }
  if (logZ !== undefined) {
    validate.assertNumber(logZ, 'pirlNCE: logZ');
    if (datasetSize === undefined) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        'pirlNCE: a fixed logZ needs datasetSize (the noise prior is K / datasetSize).',
      );
    }
  }
  if (datasetSize !== undefined)
    validate.assertNumber(datasetSize, 'pirlNCE: datasetSize', { min: 1, integer: true });

  /** Per-anchor L_NCE for logits of the positive [N] and of the negatives [N, K]. */
  const term = (pos: tf.Tensor, neg: tf.Tensor): tf.Tensor => {
    const k = neg.shape[1]!;
    if (mode === 'infonce') {
      const lseNeg = tf.logSumExp(neg, 1, true);
      // −log h(v, m) = log(e^{l⁺} + S) − l⁺ with S = Σ e^{l_j}; −log(1 − h(v, n_j)) = log(e^{l_j} + S) − log S.
      const first = tf.sub(logAddExp(tf.expandDims(pos, 1), lseNeg), tf.expandDims(pos, 1));
      const rest = tf.sum(tf.sub(logAddExp(neg, lseNeg), lseNeg), 1, true);
      return tf.squeeze(tf.add(first, rest), [1]);
    }
    // log of the noise-prior odds: x = log p − log(K/N) with log p = l − log Z.
    let shift: tf.Tensor;
    if (logZ === undefined) {
      // VISSL: Z = mean(exp(l)) · N over the batch, a constant; N cancels against K/N.
      const all = tf.concat([tf.reshape(pos, [-1]), tf.reshape(neg, [-1])], 0);
      shift = stopGradient(tf.add(tf.sub(tf.logSumExp(all), Math.log(all.size)), Math.log(k)));
    } else {
      shift = tf.scalar(logZ + Math.log(k) - Math.log(datasetSize!));
    }
    // −log σ(x⁺) − Σ log(1 − σ(x_j)) = softplus(−x⁺) + Σ softplus(x_j), stable for any x.
    return tf.add(
      tf.softplus(tf.neg(tf.sub(pos, shift))),
      tf.sum(tf.softplus(tf.sub(neg, shift)), 1),
    );
  };
  const logits = (anchor: tf.Tensor2D, positive: tf.Tensor2D, negatives: tf.Tensor) => ({
    pos: tf.div(score(similarity, similarity.paired(anchor, positive)), temperature),
    neg: tf.div(candidateScores(similarity, anchor, negatives), temperature),
  });

  return (image, transformed, negatives, memory) => {
    assertFloatInput(image, 2, 'pirlNCE: image');
    assertFloatInput(transformed, 2, 'pirlNCE: transformed');
    validate.assertSameShape(image, 'pirlNCE: image', transformed, 'pirlNCE: transformed');
    assertNegatives(negatives, image, 'pirlNCE', 'image');
    if (memory !== undefined) {
      assertFloatInput(memory, 2, 'pirlNCE: memory');
      validate.assertSameShape(image, 'pirlNCE: image', memory, 'pirlNCE: memory');
    }
    assertAtLeast(image.shape[0]!, 1, 'pirlNCE: batch size', 'the batch is empty.');
    assertAtLeast(
      negatives.shape[negatives.rank - 2]!,
      1,
      'pirlNCE: number of negatives',
      'the NCE loss contrasts each image with negatives from the memory bank.',
    );
    return tf.tidy(() => {
      const f = image as tf.Tensor2D;
      const g = transformed as tf.Tensor2D;
      if (memory === undefined) {
        const { pos, neg } = logits(g, f, negatives);
        return reducer.reduce(term(pos, neg));
      }
      const m = memory as tf.Tensor2D;
      const t = logits(g, m, negatives);
      const i = logits(f, m, negatives);
      const perImage = tf.add(
        tf.mul(term(t.pos, t.neg), lambda),
        tf.mul(term(i.pos, i.neg), 1 - lambda),
      );
      return reducer.reduce(perImage);
    });
  };
}
