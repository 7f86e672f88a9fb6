import { resolveOptions } from '@ebmjs/contract';
import { EbmError, untaped, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertFloatInput } from './checks.js';
import { assertDistance, cosine, type Distance, lp } from './distances.js';
import type { IndexTuple, PairIndices, TripletIndices } from './indices.js';
import { assertLabels, type LabelsLike } from './labels.js';

/**
 * A miner picks the informative tuples of a batch (pytorch-metric-learning's miners): it reads
 * the distances once, on the host, and returns plain index arrays, so nothing it computes is
 * differentiated and nothing needs disposing. Without `refEmbeddings` the reference set is the
 * batch itself (a row is never its own positive); with them (a cross-batch memory), anchors are
 * rows of `embeddings` and positives/negatives rows of `refEmbeddings`.
 */
export interface Miner<T extends IndexTuple = IndexTuple> {
  readonly name: string;
  (embeddings: tf.Tensor, labels: LabelsLike, refEmbeddings?: tf.Tensor, refLabels?: LabelsLike): T;
}

interface Batch {
  /** Row-major [n, m] distance-like values: smaller = closer (a similarity is negated). */
  d: Float32Array;
  n: number;
  m: number;
  labels: ArrayLike<number>;
  refLabels: ArrayLike<number>;
  self: boolean;
}

function labelValues(labels: LabelsLike): ArrayLike<number> {
  return labels instanceof tf.Tensor ? labels.dataSync() : labels;
}

/** Validates the inputs and reads the distance matrix back (off the gradient tape). */
function readBatch(
  name: string,
  distance: Distance,
  embeddings: unknown,
  labels: unknown,
  refEmbeddings: unknown,
  refLabels: unknown,
): Batch {
  assertFloatInput(embeddings, 2, `${name}: embeddings`);
  const n = embeddings.shape[0]!;
  assertLabels(labels, n, `${name}: labels`);
  const self = refEmbeddings === undefined;
  if (self !== (refLabels === undefined)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${name}: refEmbeddings and refLabels go together, received only ${self ? 'refLabels' : 'refEmbeddings'}.`,
    );
  }
  const ref = self ? embeddings : refEmbeddings;
  if (!self) {
    assertFloatInput(ref, 2, `${name}: refEmbeddings`);
    validate.assertSameDim(embeddings, 1, `${name}: embeddings`, ref, 1, `${name}: refEmbeddings`);
    assertLabels(refLabels, ref.shape[0]!, `${name}: refLabels`);
  }
  const m = (ref as tf.Tensor).shape[0]!;
  const values = untaped(() =>
    tf.tidy(() => {
      const raw = distance.matrix(embeddings, ref as tf.Tensor);
      return distance.isSimilarity ? tf.neg(raw) : raw;
    }),
  );
  const d = values.dataSync() as Float32Array;
  values.dispose();
  const l = labelValues(labels);
  return { d, n, m, labels: l, refLabels: self ? l : labelValues(refLabels as LabelsLike), self };
}

const isPositive = (b: Batch, i: number, j: number) =>
  b.labels[i] === b.refLabels[j] && !(b.self && i === j);
const isNegative = (b: Batch, i: number, j: number) => b.labels[i] !== b.refLabels[j];

function define<T extends IndexTuple>(
  name: string,
  distance: Distance,
  mine: (batch: Batch) => T,
): Miner<T> {
  const miner = ((embeddings, labels, refEmbeddings, refLabels) =>
    mine(readBatch(name, distance, embeddings, labels, refEmbeddings, refLabels))) as Miner<T>;
  Object.defineProperty(miner, 'name', { value: name });
  return miner;
}

const triplets = (a: number[], p: number[], n: number[]): TripletIndices => [
  Int32Array.from(a),
  Int32Array.from(p),
  Int32Array.from(n),
];

export interface MinerOptions {
  /** Default distances.lp() (Euclidean on L2-normalised embeddings), as pytorch-metric-learning. */
  distance?: Distance;
}

/**
 * Batch-hard mining (Hermans et al. 2017; pytorch-metric-learning's BatchHardMiner): per anchor
 * with a positive and a negative, the farthest positive and the nearest negative. One triplet
 * per such anchor; ties go to the lowest index.
 */
export function batchHard(options: MinerOptions = {}): Miner<TripletIndices> {
  const { distance } = resolveOptions('miners.batchHard', options, { distance: lp() });
  assertDistance(distance, 'miners.batchHard: distance');
  return define('batchHard', distance, (b) => {
    const a: number[] = [];
    const p: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < b.n; i++) {
      let hp = -1;
      let hn = -1;
      for (let j = 0; j < b.m; j++) {
        const v = b.d[i * b.m + j]!;
        if (isPositive(b, i, j) && (hp < 0 || v > b.d[i * b.m + hp]!)) hp = j;
        if (isNegative(b, i, j) && (hn < 0 || v < b.d[i * b.m + hn]!)) hn = j;
      }
      if (hp >= 0 && hn >= 0) {
        a.push(i);
        p.push(hp);
        n.push(hn);
      }
    }
    return triplets(a, p, n);
  });
}

/**
 * Semi-hard mining (Schroff et al. 2015, FaceNet; TensorFlow Addons' triplet_semihard_loss): for
 * every positive pair (a, p), the nearest negative farther from a than p; when there is none,
 * the farthest negative. One triplet per positive pair whose anchor has a negative.
 */
export function semiHard(options: MinerOptions = {}): Miner<TripletIndices> {
  const { distance } = resolveOptions('miners.semiHard', options, { distance: lp() });
  assertDistance(distance, 'miners.semiHard: distance');
  return define('semiHard', distance, (b) => {
    const a: number[] = [];
    const p: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < b.n; i++) {
      const row = (j: number) => b.d[i * b.m + j]!;
      for (let j = 0; j < b.m; j++) {
        if (!isPositive(b, i, j)) continue;
        let outside = -1;
        let farthest = -1;
        for (let k = 0; k < b.m; k++) {
          if (!isNegative(b, i, k)) continue;
          if (row(k) > row(j) && (outside < 0 || row(k) < row(outside))) outside = k;
          if (farthest < 0 || row(k) > row(farthest)) farthest = k;
        }
        if (farthest < 0) continue;
        a.push(i);
        p.push(j);
        n.push(outside >= 0 ? outside : farthest);
      }
    }
    return triplets(a, p, n);
  });
}

export type TripletMarginType = 'all' | 'hard' | 'semihard' | 'easy';

export interface TripletMarginMinerOptions extends MinerOptions {
  /** The margin m the triplets are measured against. Default 0.2 (pytorch-metric-learning). */
  margin?: number;
  /**
   * With t = D(a, n) − D(a, p): 'all' (default) keeps the triplets that violate the margin,
   * t ≤ m; 'hard' those with t ≤ 0; 'semihard' 0 < t ≤ m; 'easy' t > m.
   */
  type?: TripletMarginType;
}

/** pytorch-metric-learning's TripletMarginMiner: every triplet of the batch, filtered by margin. */
export function tripletMargin(options: TripletMarginMinerOptions = {}): Miner<TripletIndices> {
  const { margin, type, distance } = resolveOptions('miners.tripletMargin', options, {
    margin: 0.2,
    type: 'all',
    distance: lp(),
  });
  validate.assertNumber(margin, 'miners.tripletMargin: margin');
  assertDistance(distance, 'miners.tripletMargin: distance');
  if (type !== 'all' && type !== 'hard' && type !== 'semihard' && type !== 'easy') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `miners.tripletMargin: type must be 'all', 'hard', 'semihard' or 'easy', received ${String(type)}.`,
    );
  }
  const keep = (t: number) =>
    type === 'easy'
      ? t > margin
      : t <= margin && (type === 'hard' ? t <= 0 : type === 'semihard' ? t > 0 : true);
  return define('tripletMargin', distance, (b) => {
    const a: number[] = [];
    const p: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < b.n; i++) {
      for (let j = 0; j < b.m; j++) {
        if (!isPositive(b, i, j)) continue;
        for (let k = 0; k < b.m; k++) {
          if (!isNegative(b, i, k)) continue;
          if (!keep(b.d[i * b.m + k]! - b.d[i * b.m + j]!)) continue;
          a.push(i);
          p.push(j);
          n.push(k);
        }
      }
    }
    return triplets(a, p, n);
  });
}

export interface MultiSimilarityMinerOptions {
  /** The slack ε of both conditions. Default 0.1 (pytorch-metric-learning). */
  epsilon?: number;
  /** Default similarities.cosine(), as pytorch-metric-learning's MultiSimilarityMiner. */
  distance?: Distance;
}

/**
 * Multi-similarity pair mining (Wang et al. 2019; pytorch-metric-learning's
 * MultiSimilarityMiner). With a similarity S, a positive pair (a, p) is kept when
 * S_ap − ε < max_n S_an and a negative pair (a, n) when S_an + ε > min_p S_ap (with a distance
 * the inequalities flip). Returns pairs.
 */
export function multiSimilarity(options: MultiSimilarityMinerOptions = {}): Miner<PairIndices> {
  const { epsilon, distance } = resolveOptions('miners.multiSimilarity', options, {
    epsilon: 0.1,
    distance: cosine(),
  });
  validate.assertNumber(epsilon, 'miners.multiSimilarity: epsilon', { min: 0 });
  assertDistance(distance, 'miners.multiSimilarity: distance');
  return define('multiSimilarity', distance, (b) => {
    const a1: number[] = [];
    const p: number[] = [];
    const a2: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < b.n; i++) {
      // In distance-like terms D (a similarity negated): D_ap + ε > min_n D_an and
      // D_an − ε < max_p D_ap, the same conditions as above.
      let nearestNegative = Number.POSITIVE_INFINITY;
      let farthestPositive = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < b.m; j++) {
        const v = b.d[i * b.m + j]!;
        if (isPositive(b, i, j)) farthestPositive = Math.max(farthestPositive, v);
        else if (isNegative(b, i, j)) nearestNegative = Math.min(nearestNegative, v);
      }
      for (let j = 0; j < b.m; j++) {
        const v = b.d[i * b.m + j]!;
        if (isPositive(b, i, j) && v + epsilon > nearestNegative) {
          a1.push(i);
          p.push(j);
        } else if (isNegative(b, i, j) && v - epsilon < farthestPositive) {
          a2.push(i);
          n.push(j);
        }
      }
    }
    return [Int32Array.from(a1), Int32Array.from(p), Int32Array.from(a2), Int32Array.from(n)];
  });
}

export function assertMiner(miner: unknown, what: string): asserts miner is Miner {
  if (typeof miner !== 'function') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be a miner such as miners.batchHard(), received ${typeof miner}.`,
      { argument: what },
    );
  }
}
