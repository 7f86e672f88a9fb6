import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_POOL_CHANNELS, planReduction } from '../../src/wasm-training/reductions.js';
import {
  compareBackends,
  onWasm,
  readTidy,
  relativeError,
  setupBackends,
  TARGET,
  upstream,
} from './compare.js';

beforeAll(setupBackends);

describe(`BatchMatMul on ${TARGET} matches the cpu backend`, () => {
  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [5, 7], b: [7, 3], ta: false, tb: false },
    { a: [7, 5], b: [7, 3], ta: true, tb: false },
    { a: [5, 7], b: [3, 7], ta: false, tb: true },
    { a: [7, 5], b: [3, 7], ta: true, tb: true },
    { a: [4, 5, 6], b: [4, 6, 3], ta: false, tb: false },
    { a: [4, 6, 5], b: [4, 3, 6], ta: true, tb: true },
  ];
  it.each(cases)('$a · $b transposeA=$ta transposeB=$tb, forward and gradients', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: c.a }, { shape: c.b }],
      (a, b) => {
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, c.ta, c.tb);
        const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => {
          const z = f(x, y);
          return tf.sum(tf.mul(z, upstream(z)));
        })([a!, b!]);
        return [f(a!, b!), da!, db!];
      },
    );
    expect(shapesMatch).toBe(true);
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });

  // tfjs-core's MatMul gradient does not handle broadcast batches (on any backend): forward only.
  // Batches broadcast on both sides fail on tfjs-webgpu ("Size(60) must match the product of
  // shape 2,3,5,4"); no ebm.js model multiplies such batches.
  it.each([
    { a: [2, 3, 5, 6], b: [6, 4] },
    { a: [5, 6], b: [3, 6, 4] },
    ...(onWasm ? [{ a: [2, 1, 5, 6], b: [1, 3, 6, 4] }] : []),
  ])('broadcast batches $a · $b', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: c.a }, { shape: c.b }],
      (a, b) => [tf.matMul(a!, b!), tf.matMul(a!, b!, false, false)],
    );
    expect(shapesMatch).toBe(true);
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });
});

describe(`Tile on ${TARGET} matches the cpu backend`, () => {
  const cases: { x: number[]; reps: number[]; dtype?: 'float32' | 'int32' | 'bool' }[] = [
    { x: [1, 1, 1, 5], reps: [3, 4, 2, 1] },
    { x: [2, 3], reps: [3, 2] },
    { x: [2, 1, 3], reps: [1, 4, 1] },
    { x: [3, 2, 2], reps: [2, 1, 3] },
    { x: [4], reps: [5] },
    { x: [2, 3], reps: [1, 1] },
    { x: [2, 2, 3], reps: [2, 3, 1], dtype: 'int32' },
    { x: [3, 2], reps: [2, 2], dtype: 'bool' },
  ];
  it.each(cases)('$x × $reps ($dtype)', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: c.x, ...(c.dtype ? { dtype: c.dtype } : {}) }],
      (x) => tf.tile(x!, c.reps),
    );
    expect(shapesMatch).toBe(true);
    expect(relErrors[0]).toBe(0);
  });

  it('gradient of tile', async () => {
    const { relErrors } = await compareBackends([{ shape: [2, 1, 3] }], (x) =>
      tf.grad((a: tf.Tensor) => {
        const y = tf.tile(a, [2, 4, 3]);
        return tf.sum(tf.mul(y, upstream(y)));
      })(x!),
    );
    expect(relErrors[0]).toBeLessThanOrEqual(1e-4);
  });
});

describe(`Sum and Mean on ${TARGET} match the cpu backend`, () => {
  const cases: { x: number[]; axis: number | number[]; keepDims: boolean; wasmOnly?: true }[] = [
    { x: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: false },
    { x: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: true },
    { x: [4, 5, 6, 7], axis: [1, 2], keepDims: false },
    { x: [4, 5, 6, 7], axis: [1, 2], keepDims: true },
    { x: [4, 5, 6, 7], axis: 0, keepDims: false },
    { x: [4, 5, 6, 7], axis: 3, keepDims: false },
    { x: [4, 5, 6, 7], axis: [0, 2], keepDims: true },
    { x: [4, 1, 6, 7], axis: [0, 1, 2], keepDims: false },
    { x: [300, 64], axis: 0, keepDims: false },
    { x: [3, 4], axis: [0, 1], keepDims: false },
    // More than XNNPACK's pooling can keep on the wasm stack (16k channels, window ≥ 8): these
    // crashed with "memory access out of bounds" before K was split into width × channels.
    { x: [16, 20000], axis: 0, keepDims: false, wasmOnly: true },
    { x: [16, 784 * 64], axis: 0, keepDims: true, wasmOnly: true },
    { x: [2, 12, 20000], axis: 1, keepDims: false, wasmOnly: true },
    // A prime K has no such split: tfjs's own kernel. (These four are wasm regressions; on
    // SwiftShader each takes a minute.)
    { x: [9, 16411], axis: 0, keepDims: false, wasmOnly: true },
  ];
  it.each(cases.filter((c) => onWasm || !c.wasmOnly))(
    'sum/mean of $x over $axis keepDims=$keepDims, and gradients',
    async (c) => {
      const { relErrors, shapesMatch } = await compareBackends([{ shape: c.x }], (x) => {
        const s = tf.sum(x!, c.axis, c.keepDims);
        const m = tf.mean(x!, c.axis, c.keepDims);
        const ds = tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.sum(a, c.axis, c.keepDims))))(x!);
        const dm = tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.mean(a, c.axis, c.keepDims))))(x!);
        return [s, m, ds, dm];
      });
      expect(shapesMatch).toBe(true);
      for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
    },
  );

  it.runIf(onWasm)(
    'plans [A, R, width, K / width] views with at most MAX_POOL_CHANNELS channels',
    () => {
      expect(planReduction([4, 5, 6, 7], [1, 2])).toEqual({ a: 4, r: 30, k: 7, width: 1 });
      expect(planReduction([16, 20000], [0])).toEqual({ a: 1, r: 16, k: 20000, width: 4 });
      expect(planReduction([16, 50176], [0])).toEqual({ a: 1, r: 16, k: 50176, width: 7 });
      expect(planReduction([9, 16411], [0])).toBeUndefined();
      expect(planReduction([4, 5], [1])).toBeUndefined(); // trailing: tfjs's kernel
      expect(planReduction([4, 5, 6], [0, 2])).toBeUndefined(); // not contiguous
      expect(MAX_POOL_CHANNELS).toBe(8192);
    },
  );

  it('int32 sums stay exact', async () => {
    const { relErrors } = await compareBackends([{ shape: [4, 5, 6], dtype: 'int32' }], (x) =>
      tf.sum(x!, [0, 1]),
    );
    expect(relErrors[0]).toBe(0);
  });
});

describe(`MaxPoolGrad on ${TARGET} matches the cpu backend`, () => {
  const cases: {
    x: [number, number, number, number];
    size: number | [number, number];
    strides: number | [number, number];
    pad: 'same' | 'valid' | number;
  }[] = [
    { x: [2, 8, 8, 3], size: 2, strides: 2, pad: 'same' },
    { x: [3, 4, 6, 5], size: 2, strides: 2, pad: 'valid' },
    { x: [2, 7, 7, 3], size: 2, strides: 2, pad: 'same' },
    { x: [1, 9, 8, 2], size: 3, strides: 2, pad: 'valid' },
    { x: [1, 9, 8, 2], size: 3, strides: 1, pad: 'same' },
    { x: [2, 6, 7, 4], size: [2, 3], strides: [1, 2], pad: 'valid' },
    { x: [1, 5, 5, 2], size: 3, strides: 2, pad: 1 },
  ];
  it.each(cases)('$x window $size strides $strides pad $pad (many ties at 0)', async (c) => {
    const { relErrors } = await compareBackends(
      // Half the inputs are 0, like ReLU outputs: whole windows tie and the first max wins.
      [{ shape: c.x, zeros: 0.5 }],
      (x) =>
        tf.grad((a: tf.Tensor) => {
          const y = tf.maxPool(a as tf.Tensor4D, c.size, c.strides, c.pad);
          return tf.sum(tf.mul(y, upstream(y)));
        })(x!),
    );
    expect(relErrors[0]).toBeLessThanOrEqual(1e-4);
  });
});

describe('MaxPoolGrad with NaN and −∞ inputs follows the cpu backend', () => {
  it.each([
    { size: 2, strides: 2, pad: 'valid' as const },
    { size: 3, strides: 1, pad: 'same' as const },
  ])('window $size strides $strides pad $pad', async (c) => {
    // Windows with a NaN, with only −∞, with NaN first, and with ties.
    const x = [
      NaN,
      1,
      2,
      2,
      -Infinity,
      -Infinity,
      -Infinity,
      -Infinity,
      0,
      0,
      NaN,
      0,
      3,
      NaN,
      1,
      3,
    ];
    const run = () =>
      readTidy(() => {
        const input = tf.tensor4d(x, [1, 4, 4, 1]);
        return tf.grad((a: tf.Tensor) => {
          const y = tf.maxPool(a as tf.Tensor4D, c.size, c.strides, c.pad);
          // d/dy of Σ y·u is u, finite even where y is NaN.
          return tf.sum(tf.mul(y, upstream(y)));
        })(input);
      });
    await tf.setBackend('cpu');
    const ref = await run();
    await tf.setBackend(TARGET);
    const got = await run();
    // Same cells receive gradient (wasm's sin differs from Math.sin in the last bits).
    expect(Array.from(got, (v) => v !== 0)).toEqual(Array.from(ref, (v) => v !== 0));
    expect(relativeError(got, ref)).toBeLessThanOrEqual(1e-4);
  });
});

describe(`Identity on ${TARGET} shares data and stays correct`, () => {
  it('clone, variable assign and gradients through saved tensors', async () => {
    const { relErrors } = await compareBackends([{ shape: [3, 4] }, { shape: [4, 2] }], (a, b) => {
      const v = tf.variable(b!);
      const out = tf.tidy(() => {
        const c = tf.clone(a!);
        const before = tf.clone(v);
        v.assign(tf.add(v, 1));
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.relu(tf.matMul(x, y))))([
          a!,
          v,
        ]);
        // The clone taken before the assign keeps the old values.
        return [c, before, tf.clone(v), ...g];
      });
      v.dispose();
      return out;
    });
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });
});

describe(`UnsortedSegmentSum on ${TARGET} matches the cpu backend`, () => {
  it.each([
    { x: [6, 3], ids: [6], n: 4, dtype: 'float32' as const },
    { x: [9, 2, 3], ids: [9], n: 3, dtype: 'float32' as const },
    // tfjs-webgpu's int32 segment sums are wrong (its atomics); training sums only floats.
    ...(onWasm ? [{ x: [8], ids: [8], n: 5, dtype: 'int32' as const }] : []),
  ])('x $x ids $ids into $n segments ($dtype); negative and too-large ids dropped', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [
        { shape: c.x, dtype: c.dtype },
        { shape: c.ids, dtype: 'int32', min: -1, max: c.n + 1 },
      ],
      (x, ids) => tf.unsortedSegmentSum(x!, ids as tf.Tensor1D, c.n),
    );
    expect(shapesMatch).toBe(true);
    expect(relErrors[0]).toBeLessThanOrEqual(1e-6);
  });

  it('is the gradient of gather (GatherV2), and has a gradient itself', async () => {
    const { relErrors } = await compareBackends(
      [{ shape: [5, 4] }, { shape: [7], dtype: 'int32', min: 0, max: 5 }, { shape: [7, 4] }],
      (table, ids, x) => {
        const dTable = tf.grad((t: tf.Tensor) => {
          const g = tf.gather(t, ids!);
          return tf.sum(tf.mul(g, upstream(g)));
        })(table!);
        const dx = tf.grad((a: tf.Tensor) =>
          tf.sum(tf.square(tf.unsortedSegmentSum(a, ids as tf.Tensor1D, 5))),
        )(x!);
        return [dTable, dx];
      },
    );
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });
});

describe(`FusedBatchNorm and Cast on ${TARGET} match the cpu backend`, () => {
  it.each([
    { x: [4, 5, 6, 7], stats: [7], affine: true },
    { x: [4, 5, 6, 7], stats: [7], affine: false },
    { x: [6, 3], stats: [3], affine: true },
    { x: [2, 3, 4, 5], stats: [2, 3, 4, 5], affine: true },
  ])('batchNorm of $x with statistics $stats (affine $affine), and gradients', async (c) => {
    const specs = [
      { shape: c.x },
      { shape: c.stats },
      { shape: c.stats },
      { shape: c.stats },
      { shape: c.stats },
    ];
    const { relErrors } = await compareBackends(specs, (x, mean, v, offset, scale) =>
      tf.tidy(() => {
        const variance = tf.add(tf.square(v!), 0.1);
        const f = (a: tf.Tensor, m: tf.Tensor, s: tf.Tensor) =>
          c.affine
            ? tf.batchNorm(a, m, variance, offset!, s, 1e-3)
            : tf.batchNorm(a, m, variance, undefined, undefined, 1e-3);
        const y = f(x!, mean!, scale!);
        // tfjs-core's FusedBatchNorm gradient needs a scale and an offset (on every backend).
        if (!c.affine) return [y];
        const grads = tf.grads((a: tf.Tensor, m: tf.Tensor, s: tf.Tensor) =>
          tf.sum(tf.mul(f(a, m, s), upstream(y))),
        )([x!, mean!, scale!]);
        return [y, ...grads];
      }),
    );
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });

  it('moments + batchNorm as tfjs-layers trains (gradients through the batch statistics)', async () => {
    const { relErrors } = await compareBackends(
      [{ shape: [8, 4, 4, 5] }, { shape: [5] }, { shape: [5] }],
      (x, gamma, beta) =>
        tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
          const { mean, variance } = tf.moments(a, [0, 1, 2]);
          const y = tf.batchNorm(a, mean, variance, o, s, 1e-5);
          return tf.sum(tf.mul(tf.relu(y), upstream(y)));
        })([x!, gamma!, beta!]),
    );
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });

  it('casts share same-dtype data and convert the rest', async () => {
    const { relErrors } = await compareBackends(
      [{ shape: [3, 4] }, { shape: [5], dtype: 'int32' }, { shape: [4], dtype: 'bool' }],
      (a, i, b) => [
        tf.cast(a!, 'float32'),
        tf.cast(a!, 'int32'),
        tf.cast(i!, 'float32'),
        tf.cast(b!, 'float32'),
        tf.cast(i!, 'int32'),
        tf.cast(i!, 'bool'),
      ],
    );
    for (const e of relErrors) expect(e).toBe(0);
  });
});

describe(`comparisons on ${TARGET} match the cpu backend`, () => {
  it.each([
    { a: [6, 5], b: [6, 1], dtype: 'float32' as const },
    { a: [4, 1, 3], b: [5, 1], dtype: 'float32' as const },
    { a: [7], b: [], dtype: 'int32' as const },
    { a: [3, 4], b: [3, 4], dtype: 'int32' as const },
  ])('$a vs $b ($dtype)', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [
        { shape: c.a, dtype: c.dtype, min: -2, max: 2 },
        { shape: c.b, dtype: c.dtype, min: -2, max: 2 },
      ],
      (a, b) => [
        tf.equal(a!, b!),
        tf.notEqual(a!, b!),
        tf.greater(a!, b!),
        tf.greaterEqual(a!, b!),
        tf.less(a!, b!),
        tf.lessEqual(a!, b!),
        // Exact ties, so that Equal is true somewhere.
        tf.equal(a!, a!),
      ],
    );
    expect(shapesMatch).toBe(true);
    for (const e of relErrors) expect(e).toBe(0);
  });
});

// The rest of what training @ebmjs/models' encoders and the recipes' losses runs: forward and
// gradient of each op against the cpu backend.
describe(`the other training ops on ${TARGET} match the cpu backend`, () => {
  const grad = (f: (a: tf.Tensor) => tf.Tensor) =>
    tf.grad((a: tf.Tensor) => {
      const y = f(a);
      return tf.sum(tf.mul(y, upstream(y)));
    });
  const cases: { name: string; x: number[]; f: (a: tf.Tensor) => tf.Tensor }[] = [
    { name: 'relu', x: [4, 6, 5], f: (a) => tf.relu(a) },
    { name: 'softmax', x: [6, 9], f: (a) => tf.softmax(tf.mul(a, 3)) },
    { name: 'logSoftmax', x: [6, 9], f: (a) => tf.logSoftmax(a) },
    { name: 'logSumExp', x: [6, 9], f: (a) => tf.logSumExp(tf.mul(a, 4), 1) },
    { name: 'concat', x: [4, 5], f: (a) => tf.concat([a, tf.mul(a, 2), tf.square(a)], 1) },
    { name: 'slice', x: [6, 7, 3], f: (a) => tf.slice(a, [1, 2, 0], [4, 3, 2]) },
    { name: 'transpose', x: [3, 4, 5], f: (a) => tf.transpose(a, [2, 0, 1]) },
    { name: 'exp/log', x: [5, 4], f: (a) => tf.log(tf.add(tf.exp(a), 1)) },
    {
      name: 'avgPool 3×3 stride 2 same',
      x: [2, 7, 7, 3],
      f: (a) => tf.avgPool(a as tf.Tensor4D, 3, 2, 'same'),
    },
    {
      name: 'avgPool 2×2 stride 2 valid',
      x: [2, 8, 6, 4],
      f: (a) => tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid'),
    },
    {
      name: 'maxPool 3×3 stride 2 same',
      x: [2, 7, 7, 3],
      f: (a) => tf.maxPool(a as tf.Tensor4D, 3, 2, 'same'),
    },
    {
      name: 'l2 normalise (cosine similarities)',
      x: [6, 8],
      f: (a) => {
        const z = tf.div(a, tf.norm(a, 'euclidean', 1, true));
        return tf.matMul(z, z, false, true);
      },
    },
  ];
  it.each(cases)('$name of $x, forward and gradient', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends([{ shape: c.x }], (x) =>
      tf.tidy(() => [c.f(x!), grad(c.f)(x!)]),
    );
    expect(shapesMatch).toBe(true);
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });

  it('gather rows (forward) and its gradient', async () => {
    const { relErrors } = await compareBackends(
      [{ shape: [6, 5] }, { shape: [9], dtype: 'int32', min: 0, max: 6 }],
      (t, ids) => {
        const f = (a: tf.Tensor) => tf.gather(a, ids!);
        return tf.tidy(() => [f(t!), grad(f)(t!)]);
      },
    );
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });
});
