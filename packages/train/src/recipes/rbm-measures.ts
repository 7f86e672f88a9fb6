import { EbmError, Rng } from '@ebmjs/core';
import type { RBM } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import { type ImageDataset, imageSize } from '../datasets/dataset.js';

/**
 * Binary rows of an image dataset: pixel/255 > threshold, flattened to [n, h·w·c] float32 0/1
 * (the usual fixed binarisation of MNIST at 0.5).
 */
export function binaryBatch(
  ds: ImageDataset,
  indices: ArrayLike<number>,
  threshold = 0.5,
): tf.Tensor2D {
  const d = imageSize(ds);
  const cut = threshold * 255;
  const out = new Float32Array(indices.length * d);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!(i >= 0 && i < ds.labels.length)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `binaryBatch: index ${i} is outside [0, ${ds.labels.length - 1}].`,
      );
    }
    const src = ds.pixels.subarray(i * d, (i + 1) * d);
    for (let k = 0; k < d; k++) out[r * d + k] = src[k]! > cut ? 1 : 0;
  }
  return tf.tensor2d(out, [indices.length, d]);
}

/**
 * F(v) − F(v̄ʲ) for every row v [n, V] and each single-bit flip v̄ʲ → [n, V], in closed form:
 * with a = vW + c and s_j = 1 − 2v_j, flipping bit j moves a by s_j·W_j, so
 *   F(v) − F(v̄ʲ) = s_j b_j + Σ_h softplus(a_h + s_j W_jh) − softplus(a_h).
 * This is [n, V, H] elementwise work instead of the n·V extra matrix products that evaluating
 * F on every flipped state costs (what the generic losses do); the two agree to float error.
 */
export function rbmFlipGaps(rbm: RBM, v: tf.Tensor2D): tf.Tensor2D {
  // Laid out [V, H, n] with the batch last: the backward pass then reduces W's gradient over
  // the trailing axis, a plain row sum on every backend.
  return tf.tidy(() => {
    const aT = tf.transpose(tf.add(tf.matMul(v, rbm.weights), rbm.hiddenBias)); // [H, n]
    const sT = tf.sub(1, tf.mul(tf.transpose(v), 2)); // [V, n]
    const moved = tf.add(
      tf.expandDims(aT, 0),
      tf.mul(tf.expandDims(rbm.weights, 2), tf.expandDims(sT, 1)),
    ); // [V, H, n]
    const hidden = tf.sub(tf.sum(tf.softplus(moved), 1), tf.sum(tf.softplus(aT), 0)); // [V, n]
    return tf.transpose(
      tf.add(tf.mul(sT, tf.expandDims(rbm.visibleBias, 1)), hidden),
    ) as tf.Tensor2D;
  });
}

/** Ratio matching (Hyvärinen 2007) of an RBM from closed-form gaps: mean_v Σ_j σ(F(v) − F(v̄ʲ))². */
export function rbmRatioMatching(rbm: RBM, v: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sigmoid(rbmFlipGaps(rbm, v))), 1)) as tf.Scalar);
}

/** log of minimum probability flow's K = mean_v Σ_j exp((F(v) − F(v̄ʲ))/2), from closed-form gaps. */
export function rbmLogProbabilityFlow(rbm: RBM, v: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () =>
      tf.sub(
        tf.logSumExp(tf.reshape(tf.mul(rbmFlipGaps(rbm, v), 0.5), [-1])),
        Math.log(v.shape[0]),
      ) as tf.Scalar,
  );
}

// Rows per chunk: the flip gaps hold rows × V × H floats; the other measures only rows × V.
const FLIP_ROWS = 64;
const PLAIN_ROWS = 1024;

/** Applies `perRow` ([m, V] → [m]) to `v` in chunks of `rows` and returns all values. */
function chunked(
  v: tf.Tensor2D,
  rows: number,
  perRow: (chunk: tf.Tensor2D) => tf.Tensor,
): Float32Array {
  const n = v.shape[0];
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += rows) {
    const size = Math.min(rows, n - start);
    const values = tf.tidy(() =>
      perRow(tf.slice(v, [start, 0], [size, v.shape[1]]) as tf.Tensor2D).dataSync(),
    );
    out.set(values, start);
  }
  return out;
}

/**
 * The exact pseudo-log-likelihood of each row, Σ_j log p(v_j | v_−j) = Σ_j log σ(F(v̄ʲ) − F(v)),
 * in nats: the sum that scikit-learn's score estimates from one bit.
 */
export function pseudoLogLikelihood(rbm: RBM, v: tf.Tensor2D): Float32Array {
  return chunked(v, FLIP_ROWS, (chunk) =>
    tf.sum(tf.logSigmoid(tf.neg(rbmFlipGaps(rbm, chunk))), 1),
  );
}

/**
 * scikit-learn's BernoulliRBM.score_samples: for each row flip one uniformly chosen bit j and
 * return d · log σ(F(ṽ) − F(v)), an unbiased one-bit estimate of the pseudo-log-likelihood
 * (sklearn draws j from its random state; here from `seed`).
 */
export function sklearnScoreSamples(rbm: RBM, v: tf.Tensor2D, seed = 0): Float32Array {
  const [n, d] = v.shape;
  const rng = new Rng(seed);
  const bits = Int32Array.from({ length: n }, () => rng.int(d));
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += PLAIN_ROWS) {
    const size = Math.min(PLAIN_ROWS, n - start);
    const values = tf.tidy(() => {
      const chunk = tf.slice(v, [start, 0], [size, d]);
      const mask = tf.oneHot(tf.tensor1d(bits.subarray(start, start + size), 'int32'), d);
      // Flip: v + m − 2·v·m.
      const m = tf.cast(mask, 'float32');
      const flipped = tf.sub(tf.add(chunk, m), tf.mul(tf.mul(chunk, m), 2));
      const gap = tf.sub(rbm.freeEnergy(flipped), rbm.freeEnergy(chunk));
      return tf.mul(tf.logSigmoid(gap), d).dataSync();
    });
    out.set(values, start);
  }
  return out;
}

/** Mean squared error per pixel of one mean-field reconstruction v → p(h|v) → p(v|h). */
export function reconstructionError(rbm: RBM, v: tf.Tensor2D): number {
  const errors = chunked(v, PLAIN_ROWS, (chunk) =>
    tf.mean(tf.square(tf.sub(rbm.visibleProbs(rbm.hiddenProbs(chunk)), chunk)), 1),
  );
  return errors.reduce((a, b) => a + b, 0) / errors.length;
}

export function mean(values: Float32Array): number {
  let s = 0;
  for (const x of values) s += x;
  return s / values.length;
}
