import { EbmError } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Index tuples, in pytorch-metric-learning's shapes: which (anchor, positive, negative)
 * triplets or which positive and negative pairs a labelled loss should use. Indices are rows of
 * the embeddings (anchors) and rows of the reference set (positives, negatives), which is the
 * embeddings themselves unless a miner is given `refEmbeddings`.
 */
export type TripletIndices = readonly [
  anchors: Int32Array,
  positives: Int32Array,
  negatives: Int32Array,
];
/** Positive pairs (a1[k], p[k]) and negative pairs (a2[k], n[k]); the two lists may differ in length. */
export type PairIndices = readonly [
  positiveAnchors: Int32Array,
  positives: Int32Array,
  negativeAnchors: Int32Array,
  negatives: Int32Array,
];
export type IndexTuple = TripletIndices | PairIndices;
/** What a caller may pass as an index tuple: three or four integer arrays or rank-1 tensors. */
export type IndexTupleLike = readonly (ArrayLike<number> | tf.Tensor)[];

/** Checks an index tuple against `n` anchor rows and `m` reference rows; returns Int32Arrays. */
export function checkIndexTuple(indices: unknown, n: number, m: number, what: string): IndexTuple {
  if (!Array.isArray(indices) || (indices.length !== 3 && indices.length !== 4)) {
    const got = Array.isArray(indices) ? `an array of length ${indices.length}` : typeof indices;
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be a triplet tuple [anchors, positives, negatives] or a pair tuple [a1, p, a2, n], received ${got}.`,
      { argument: what },
    );
  }
  const out = indices.map((entry: unknown, k: number) => {
    // A rank-1 tensor (what a PyTorch user would pass) is read back once.
    const list = entry instanceof tf.Tensor && entry.rank === 1 ? entry.dataSync() : entry;
    const isList = Array.isArray(list) || (ArrayBuffer.isView(list) && !(list instanceof DataView));
    if (!isList) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${what}[${k}] must be an array of row indices, received ${typeof list}.`,
        { argument: what },
      );
    }
    const values = list as ArrayLike<number>;
    // Anchors index the embeddings; the others index the reference rows.
    const rows = k === 0 || (indices.length === 4 && k === 2) ? n : m;
    const ints = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= rows) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `${what}[${k}][${i}] must be a row index, an integer in [0, ${rows - 1}], received ${v}.`,
          { argument: what, received: v },
        );
      }
      ints[i] = v;
    }
    return ints;
  });
  const pairsOf =
    indices.length === 3
      ? [[0, 1, 2]]
      : [
          [0, 1],
          [2, 3],
        ];
  for (const group of pairsOf) {
    const lengths = group.map((k) => out[k]!.length);
    if (lengths.some((l) => l !== lengths[0])) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${what}: lists ${group.join(', ')} must have one entry per tuple, received lengths ${lengths.join(', ')}.`,
        { argument: what, received: lengths },
      );
    }
  }
  return out as unknown as IndexTuple;
}

/** Triplets as pairs (a, p) and (a, n), as pytorch-metric-learning's convert_to_pairs. */
export function toPairs(indices: IndexTuple): PairIndices {
  if (indices.length === 4) return indices;
  const [a, p, n] = indices;
  return [a, p, a, n];
}

/**
 * Pairs as triplets: every positive pair with every negative pair of the same anchor
 * (pytorch-metric-learning's convert_to_triplets, in its order).
 */
export function toTriplets(indices: IndexTuple): TripletIndices {
  if (indices.length === 3) return indices;
  const [a1, p, a2, n] = indices;
  const byAnchor = new Map<number, number[]>();
  for (let j = 0; j < a2.length; j++) {
    const list = byAnchor.get(a2[j]!);
    if (list) list.push(j);
    else byAnchor.set(a2[j]!, [j]);
  }
  const anchors: number[] = [];
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < a1.length; i++) {
    for (const j of byAnchor.get(a1[i]!) ?? []) {
      anchors.push(a1[i]!);
      positives.push(p[i]!);
      negatives.push(n[j]!);
    }
  }
  return [Int32Array.from(anchors), Int32Array.from(positives), Int32Array.from(negatives)];
}

/**
 * Every positive and negative pair between `labels` (anchors) and `refLabels`, row-major. The
 * diagonal is no positive pair when the reference set is the batch itself (`self`).
 */
export function allPairs(
  labels: ArrayLike<number>,
  refLabels: ArrayLike<number>,
  self: boolean,
): PairIndices {
  const a1: number[] = [];
  const p: number[] = [];
  const a2: number[] = [];
  const n: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < refLabels.length; j++) {
      if (labels[i] === refLabels[j]) {
        if (!(self && i === j)) {
          a1.push(i);
          p.push(j);
        }
      } else {
        a2.push(i);
        n.push(j);
      }
    }
  }
  return [Int32Array.from(a1), Int32Array.from(p), Int32Array.from(a2), Int32Array.from(n)];
}

/** Adds `offset` to the reference entries (positives and negatives) of a tuple. */
export function shiftReferences(indices: IndexTuple, offset: number): IndexTuple {
  const shift = (x: Int32Array) => x.map((v) => v + offset);
  if (indices.length === 3) return [indices[0], shift(indices[1]), shift(indices[2])];
  return [indices[0], shift(indices[1]), indices[2], shift(indices[3])];
}
