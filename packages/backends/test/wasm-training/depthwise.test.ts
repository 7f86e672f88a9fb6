import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compareBackends,
  kernel,
  onWasm,
  readTidy,
  relativeError,
  setupBackends,
  TARGET,
  upstream,
  values,
} from './compare.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  /** [KH, KW, C, channel multiplier] */
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

const CASES: Case[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 1], strides: 1, pad: 'same' },
  { x: [2, 8, 8, 4], filter: [3, 3, 4, 1], strides: 2, pad: 'same' },
  { x: [1, 9, 7, 2], filter: [3, 2, 2, 2], strides: 2, pad: 'valid' },
  { x: [2, 6, 5, 3], filter: [2, 3, 3, 3], strides: [1, 2], pad: 'same' },
  { x: [1, 10, 11, 2], filter: [5, 4, 2, 1], strides: [3, 2], pad: 'valid' },
  {
    x: [1, 9, 8, 2],
    filter: [3, 3, 2, 2],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [2, 5, 5, 3], filter: [1, 1, 3, 2], strides: 2, pad: 'same' },
];

const label = (c: Case) =>
  `x ${c.x.join('×')} filter ${c.filter.join('×')} strides ${String(c.strides)} pad ${JSON.stringify(c.pad)}`;

const outShape = (c: Case, dilations: number = 1) =>
  tf.tidy(
    () =>
      tf.depthwiseConv2d(
        tf.zeros(c.x) as tf.Tensor4D,
        tf.zeros(c.filter) as tf.Tensor4D,
        c.strides,
        c.pad,
        'NHWC',
        dilations,
      ).shape,
  );

beforeAll(setupBackends);

describe(`DepthwiseConv2dNative backprops on ${TARGET} match the cpu backend`, () => {
  it.each(CASES)('filter gradient: $x $filter $strides $pad', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: c.x }, { shape: outShape(c) }],
      (x, dy) =>
        kernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: x!, dy: dy! },
          { strides: c.strides, pad: c.pad, dilations: 1, filterShape: c.filter },
        ),
    );
    expect(shapesMatch, label(c)).toBe(true);
    expect(relErrors[0], label(c)).toBeLessThanOrEqual(1e-4);
  });

  it.each(CASES)('input gradient: $x $filter $strides $pad', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: outShape(c) }, { shape: c.filter }],
      (dy, filter) =>
        kernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: dy!, filter: filter! },
          { strides: c.strides, pad: c.pad, dilations: 1, inputShape: c.x },
        ),
    );
    expect(shapesMatch, label(c)).toBe(true);
    expect(relErrors[0], label(c)).toBeLessThanOrEqual(1e-4);
  });

  it.each(CASES)('depthwiseConv2d gradients: $x $filter $strides $pad', async (c) => {
    const { relErrors } = await compareBackends([{ shape: c.x }, { shape: c.filter }], (x, f) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad);
        return tf.sum(tf.mul(y, upstream(y)));
      })([x!, f!]),
    );
    expect(relErrors[0], `dx ${label(c)}`).toBeLessThanOrEqual(1e-4);
    expect(relErrors[1], `dW ${label(c)}`).toBeLessThanOrEqual(1e-4);
  });
});

// tfjs-webgpu's depthwise backprops ignore dilations, as tfjs's cpu ones do; ebm.js's are wasm's
// (no model of @ebmjs/models differentiates a dilated depthwise conv; augmentations run it forward).
describe.runIf(onWasm)('dilated depthwise backprops', () => {
  // tfjs's cpu kernels ignore `dilations` in these two backprops (and autograd refuses dilated
  // depthwise gradients), so the reference is the undilated backprop of the equivalent filter
  // with d−1 zeros between taps, on cpu.
  const dilationCases: { c: Case; d: number }[] = [
    { c: { x: [1, 9, 9, 2], filter: [3, 3, 2, 1], strides: 1, pad: 'same' }, d: 2 },
    { c: { x: [2, 10, 8, 3], filter: [2, 3, 3, 2], strides: 1, pad: 'valid' }, d: 3 },
  ];
  const expand = (f: Float32Array, [kh, kw, c, m]: number[], d: number) => {
    const eh = (kh! - 1) * d + 1;
    const ew = (kw! - 1) * d + 1;
    const out = new Float32Array(eh * ew * c! * m!);
    for (let i = 0; i < kh!; i++)
      for (let j = 0; j < kw!; j++)
        for (let k = 0; k < c! * m!; k++)
          out[(i * d * ew + j * d) * c! * m! + k] = f[(i * kw! + j) * c! * m! + k]!;
    return { values: out, shape: [eh, ew, c!, m!] };
  };

  it.each(dilationCases)('input gradient with dilation $d', async ({ c, d }) => {
    const dyShape = outShape(c, d);
    const dy = values({ shape: dyShape }, 7) as Float32Array;
    const f = values({ shape: c.filter }, 8) as Float32Array;
    const expanded = expand(f, c.filter, d);
    await tf.setBackend('cpu');
    const ref = await readTidy(() =>
      kernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy: tf.tensor(dy, dyShape), filter: tf.tensor(expanded.values, expanded.shape) },
        { strides: 1, pad: c.pad, dilations: 1, inputShape: c.x },
      ),
    );
    await tf.setBackend(TARGET);
    const got = await readTidy(() =>
      kernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy: tf.tensor(dy, dyShape), filter: tf.tensor(f, c.filter) },
        { strides: 1, pad: c.pad, dilations: d, inputShape: c.x },
      ),
    );
    expect(relativeError(got, ref)).toBeLessThanOrEqual(1e-4);
  });

  it.each(dilationCases)('filter gradient with dilation $d', async ({ c, d }) => {
    const dyShape = outShape(c, d);
    const x = values({ shape: c.x }, 9) as Float32Array;
    const dy = values({ shape: dyShape }, 10) as Float32Array;
    const [kh, kw, ch, m] = c.filter;
    const eh = (kh - 1) * d + 1;
    const ew = (kw - 1) * d + 1;
    await tf.setBackend('cpu');
    const full = await readTidy(() =>
      kernel(
        'DepthwiseConv2dNativeBackpropFilter',
        { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
        { strides: 1, pad: c.pad, dilations: 1, filterShape: [eh, ew, ch, m] },
      ),
    );
    // The dilated filter's taps are the undilated gradient's taps at multiples of d.
    const ref = new Float32Array(kh * kw * ch * m);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let k = 0; k < ch * m; k++)
          ref[(i * kw + j) * ch * m + k] = full[(i * d * ew + j * d) * ch * m + k]!;
    await tf.setBackend(TARGET);
    const got = await readTidy(() =>
      kernel(
        'DepthwiseConv2dNativeBackpropFilter',
        { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
        { strides: 1, pad: c.pad, dilations: d, filterShape: c.filter },
      ),
    );
    expect(relativeError(got, ref)).toBeLessThanOrEqual(1e-4);
  });
});
