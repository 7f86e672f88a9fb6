import { EbmError, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * An in-memory labelled image dataset. Pixels stay uint8 (a quarter of the memory of float32)
 * and become float32 in [0, 1] one batch at a time.
 */
export interface ImageDataset {
  readonly name: string;
  /** [height, width, channels]. */
  readonly imageShape: readonly [number, number, number];
  /** size × height × width × channels bytes, NHWC. */
  readonly pixels: Uint8Array;
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
}

export function datasetSize(ds: ImageDataset): number {
  return ds.labels.length;
}

export function imageSize(ds: ImageDataset): number {
  const [h, w, c] = ds.imageShape;
  return h * w * c;
}

/** Checks that pixels, labels and classes agree. */
export function assertDataset(ds: ImageDataset, what = 'dataset'): void {
  const [h, w, c] = ds.imageShape;
  if (![h, w, c].every((d) => Number.isInteger(d) && d > 0)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what}: imageShape must be 3 positive integers, received ${JSON.stringify(ds.imageShape)}.`,
    );
  }
  if (ds.pixels.length !== ds.labels.length * h * w * c) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${what}: ${ds.labels.length} labels need ${ds.labels.length * h * w * c} pixel bytes of shape [${h}, ${w}, ${c}], received ${ds.pixels.length}.`,
    );
  }
  for (const label of ds.labels) {
    if (label < 0 || label >= ds.classNames.length) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${what}: label ${label} is outside [0, ${ds.classNames.length - 1}].`,
      );
    }
  }
}

/** The rows at `indices`, as a new dataset (copies). */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name = ds.name): ImageDataset {
  const size = imageSize(ds);
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!(i >= 0 && i < ds.labels.length)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `subset: index ${i} is outside [0, ${ds.labels.length - 1}].`,
      );
    }
    pixels.set(ds.pixels.subarray(i * size, (i + 1) * size), r * size);
    labels[r] = ds.labels[i]!;
  }
  return { name, imageShape: ds.imageShape, pixels, labels, classNames: ds.classNames };
}

/** The first `limit` rows, or a seeded random `limit` rows when `seed` is given. */
export function take(ds: ImageDataset, limit: number, seed?: number): ImageDataset {
  validate.assertNumber(limit, 'take: limit', { min: 1, integer: true });
  const n = Math.min(limit, datasetSize(ds));
  if (n === datasetSize(ds) && seed === undefined) return ds;
  const indices =
    seed === undefined
      ? Int32Array.from({ length: n }, (_, i) => i)
      : new Rng(seed).permutation(datasetSize(ds), n);
  return subset(ds, indices);
}

/** A seeded split into train and test parts, stratified by class so both keep the class mix. */
export function trainTestSplit(
  ds: ImageDataset,
  { testFraction = 0.2, seed = 0 }: { testFraction?: number; seed?: number } = {},
): { train: ImageDataset; test: ImageDataset } {
  validate.assertNumber(testFraction, 'trainTestSplit: testFraction', {
    min: 0,
    max: 1,
    exclusiveMin: true,
  });
  const rng = new Rng(seed);
  const byClass = new Map<number, number[]>();
  ds.labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const train: number[] = [];
  const test: number[] = [];
  for (const members of byClass.values()) {
    const order = rng.permutation(members.length);
    const nTest = Math.round(members.length * testFraction);
    order.forEach((k, r) => (r < nTest ? test : train).push(members[k]!));
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return {
    train: subset(ds, train, `${ds.name}-train`),
    test: subset(ds, test, `${ds.name}-test`),
  };
}

/**
 * Index batches over a dataset: shuffled with a seeded permutation per epoch when `shuffle`,
 * the last short batch dropped when `dropLast` (contrastive losses want equal batches).
 */
export function* batchIndices(
  size: number,
  {
    batchSize,
    shuffle = true,
    seed = 0,
    dropLast = false,
  }: { batchSize: number; shuffle?: boolean; seed?: number; dropLast?: boolean },
): Generator<Int32Array> {
  validate.assertNumber(batchSize, 'batchIndices: batchSize', { min: 1, integer: true });
  const order = shuffle
    ? new Rng(seed).permutation(size)
    : Int32Array.from({ length: size }, (_, i) => i);
  for (let start = 0; start < size; start += batchSize) {
    const end = Math.min(size, start + batchSize);
    if (dropLast && end - start < batchSize) return;
    yield order.slice(start, end);
  }
}

/** Number of batches `batchIndices` yields. */
export function batchCount(size: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

/** The images at `indices` as a float32 [n, h, w, c] tensor in [0, 1]. */
export function imageBatch(ds: ImageDataset, indices: ArrayLike<number>): tf.Tensor4D {
  const size = imageSize(ds);
  const out = new Float32Array(indices.length * size);
  for (let r = 0; r < indices.length; r++) {
    const start = indices[r]! * size;
    const src = ds.pixels.subarray(start, start + size);
    for (let k = 0; k < size; k++) out[r * size + k] = src[k]! / 255;
  }
  return tf.tensor4d(out, [indices.length, ...ds.imageShape]);
}

/** The labels at `indices`. */
export function labelBatch(ds: ImageDataset, indices: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: indices.length }, (_, r) => ds.labels[indices[r]!]!);
}
