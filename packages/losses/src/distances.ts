import { resolveOptions } from '@ebmjs/contract';
import { EbmError, ops, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { isGreater } from './masked.js';

/**
 * A similarity or a distance between embeddings, passed to losses as an object (the
 * pytorch-metric-learning `distances` design). `isSimilarity` says which way it points:
 * true for cosine and dot (larger = closer), false for Lp (smaller = closer). Softmax losses
 * use `score` (similarity, or −distance); margin losses use `gap` (distance, or −similarity).
 */
export interface Distance {
  readonly name: string;
  readonly isSimilarity: boolean;
  /** All pairs: a [n, d] × b [m, d] → [n, m]. */
  matrix(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D;
  /** Row by row: a [n, d] × b [n, d] → [n]. */
  paired(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D;
}

interface Kernels {
  matrix(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor;
  paired(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor;
}

function define(name: string, isSimilarity: boolean, kernels: Kernels): Distance {
  // Rank, dtype and dimension checks only: losses call these after their own full validation,
  // so no second NaN scan here.
  const check = (a: tf.Tensor, b: tf.Tensor, mode: 'matrix' | 'paired') => {
    const where = `${name}.${mode}`;
    validate.assertRank(a, 2, `${where}: a`);
    validate.assertRank(b, 2, `${where}: b`);
    validate.assertFloat(a, `${where}: a`);
    validate.assertFloat(b, `${where}: b`);
    validate.assertSameDim(a, 1, `${where}: a`, b, 1, `${where}: b`);
    if (mode === 'paired') validate.assertSameDim(a, 0, `${where}: a`, b, 0, `${where}: b`);
  };
  return {
    name,
    isSimilarity,
    matrix(a, b) {
      check(a, b, 'matrix');
      return tf.tidy(() => kernels.matrix(a as tf.Tensor2D, b as tf.Tensor2D)) as tf.Tensor2D;
    },
    paired(a, b) {
      check(a, b, 'paired');
      return tf.tidy(() => kernels.paired(a as tf.Tensor2D, b as tf.Tensor2D)) as tf.Tensor1D;
    },
  };
}

/** Cosine similarity ⟨a, b⟩ / (‖a‖‖b‖): scale-invariant, so an encoder cannot cheat by scaling. */
export function cosine(): Distance {
  return define('cosine', true, {
    matrix: (a, b) => ops.cosineSimilarityMatrix(a, b),
    paired: (a, b) => ops.pairedCosine(a, b),
  });
}

/** Dot-product similarity ⟨a, b⟩ (MoCo/CLIP with pre-normalised features). */
export function dot(): Distance {
  return define('dot', true, {
    matrix: (a, b) => tf.matMul(a, b, false, true),
    paired: (a, b) => tf.sum(tf.mul(a, b), 1),
  });
}

export interface LpOptions {
  /** The order p ≥ 1 of the norm ‖a − b‖_p. Default 2. */
  p?: number;
  /** L2-normalise embeddings first (pytorch-metric-learning's default). Default true. */
  normalize?: boolean;
  /** Raise the distance to this power (2 with p = 2 gives the squared distance). Default 1. */
  power?: number;
}

/**
 * sqrt that is exactly 0 with a zero gradient at 0: sqrt′(0) = ∞ would turn identical
 * embeddings into NaN gradients. The inner `where` keeps the unused branch finite too.
 */
function safeRoot(x: tf.Tensor, p: number): tf.Tensor {
  const positive = tf.cast(isGreater(x, 0), 'bool');
  const safe = tf.where(positive, x, tf.onesLike(x));
  const root = p === 2 ? tf.sqrt(safe) : tf.pow(safe, 1 / p);
  return tf.where(positive, root, tf.zerosLike(x));
}

/** The Lp distance ‖a − b‖_p (to the power `power`), optionally on L2-normalised embeddings. */
export function lp(options: LpOptions = {}): Distance {
  const { p, normalize, power } = resolveOptions('distances.lp', options, {
    p: 2,
    normalize: true,
    power: 1,
  });
  validate.assertNumber(p, 'distances.lp: p', { min: 1 });
  validate.assertNumber(power, 'distances.lp: power', { min: 0, exclusiveMin: true });
  if (typeof normalize !== 'boolean') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `distances.lp: normalize must be a boolean, received ${typeof normalize}.`,
    );
  }
  const prep = (x: tf.Tensor2D) => (normalize ? (ops.l2Normalize(x, 1) as tf.Tensor2D) : x);
  // Sum of |a − b|^p over features; for p = 2 the matmul form avoids an [n, m, d] tensor.
  const sumMatrix = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor =>
    p === 2
      ? ops.squaredDistanceMatrix(a, b)
      : tf.sum(tf.pow(tf.abs(tf.sub(tf.expandDims(a, 1), tf.expandDims(b, 0))), p), 2);
  const sumPaired = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor =>
    p === 2 ? tf.sum(tf.square(tf.sub(a, b)), 1) : tf.sum(tf.pow(tf.abs(tf.sub(a, b)), p), 1);
  const finish = (s: tf.Tensor) => {
    if (power === p) return s;
    const d = safeRoot(s, p);
    return power === 1 ? d : tf.pow(d, power);
  };
  return define(`lp(p=${p})`, false, {
    matrix: (a, b) => finish(sumMatrix(prep(a), prep(b))),
    paired: (a, b) => finish(sumPaired(prep(a), prep(b))),
  });
}

/** Similarity scores (larger = closer): the similarity itself, or minus the distance. */
export function score(distance: Distance, values: tf.Tensor): tf.Tensor {
  return distance.isSimilarity ? values : tf.neg(values);
}

/** Distance-like values (smaller = closer): the distance itself, or minus the similarity. */
export function gap(distance: Distance, values: tf.Tensor): tf.Tensor {
  return distance.isSimilarity ? tf.neg(values) : values;
}

export function assertDistance(distance: unknown, what: string): asserts distance is Distance {
  const d = distance as Partial<Distance> | null;
  if (
    d === null ||
    typeof d !== 'object' ||
    typeof d.matrix !== 'function' ||
    typeof d.paired !== 'function' ||
    typeof d.isSimilarity !== 'boolean'
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be a distance object such as similarities.cosine() or distances.lp(), received ${typeof distance}.`,
      { argument: what },
    );
  }
}
