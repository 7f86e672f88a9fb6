import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareBackends, kernel, setupBackends, TARGET, upstream } from './compare.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

// Random-looking but fixed geometries: filter sizes 1–5, strides 1–3 (also unequal), the three
// padding kinds, odd and even sizes, a filter as large as the input.
const CASES: Case[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { x: [1, 9, 7, 2], filter: [3, 2, 2, 3], strides: 2, pad: 'valid' },
  { x: [2, 9, 8, 3], filter: [1, 1, 3, 5], strides: 2, pad: 'same' },
  { x: [2, 9, 8, 3], filter: [1, 1, 3, 4], strides: 2, pad: 'valid' },
  { x: [1, 10, 11, 2], filter: [5, 4, 2, 3], strides: [3, 2], pad: 'valid' },
  { x: [1, 10, 11, 2], filter: [3, 4, 2, 3], strides: [2, 3], pad: 'same' },
  {
    x: [1, 9, 8, 2],
    filter: [3, 3, 2, 2],
    strides: 3,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  {
    x: [1, 6, 6, 2],
    filter: [2, 2, 2, 3],
    strides: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 4],
      [0, 0],
    ],
  },
  { x: [3, 5, 5, 4], filter: [5, 5, 4, 2], strides: 1, pad: 'valid' },
  { x: [2, 4, 6, 8], filter: [4, 4, 8, 6], strides: 4, pad: 'same' },
];

const label = (c: Case) =>
  `x ${c.x.join('×')} filter ${c.filter.join('×')} strides ${String(c.strides)} pad ${JSON.stringify(c.pad)}`;

const attrs = (c: Case) => ({ strides: c.strides, pad: c.pad, dataFormat: 'NHWC' });

beforeAll(setupBackends);

describe(`Conv2DBackpropFilter on ${TARGET} matches the cpu backend`, () => {
  it.each(CASES)('$x $filter $strides $pad', async (c) => {
    const y = tf.tidy(() =>
      tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad),
    );
    const dyShape = y.shape;
    y.dispose();
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: c.x }, { shape: dyShape }],
      (x, dy) =>
        kernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, { ...attrs(c), filterShape: c.filter }),
    );
    expect(shapesMatch, label(c)).toBe(true);
    expect(relErrors[0], label(c)).toBeLessThanOrEqual(1e-4);
  });
});

describe(`Conv2DBackpropInput on ${TARGET} matches the cpu backend`, () => {
  it.each(CASES)('$x $filter $strides $pad', async (c) => {
    const y = tf.tidy(() =>
      tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad),
    );
    const dyShape = y.shape;
    y.dispose();
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: dyShape }, { shape: c.filter }],
      (dy, filter) =>
        kernel(
          'Conv2DBackpropInput',
          { dy: dy!, filter: filter! },
          { ...attrs(c), inputShape: c.x },
        ),
    );
    expect(shapesMatch, label(c)).toBe(true);
    expect(relErrors[0], label(c)).toBeLessThanOrEqual(1e-4);
  });
});

describe(`conv2d gradients on ${TARGET} match the cpu backend`, () => {
  it.each(CASES)('$x $filter $strides $pad', async (c) => {
    const { relErrors } = await compareBackends([{ shape: c.x }, { shape: c.filter }], (x, f) => {
      // A non-uniform upstream gradient: weight the output by a fixed pattern.
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad);
        return tf.sum(tf.mul(y, upstream(y)));
      });
      return g([x!, f!]);
    });
    expect(relErrors[0], `dx ${label(c)}`).toBeLessThanOrEqual(1e-4);
    expect(relErrors[1], `dW ${label(c)}`).toBeLessThanOrEqual(1e-4);
  });

  it.each(CASES)('forward $x $filter $strides $pad', async (c) => {
    const { relErrors, shapesMatch } = await compareBackends(
      [{ shape: c.x }, { shape: c.filter }],
      (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad),
    );
    expect(shapesMatch, label(c)).toBe(true);
    expect(relErrors[0], label(c)).toBeLessThanOrEqual(1e-4);
  });

  it('conv2dTranspose (Conv2DBackpropInput as a forward op) and its gradients', async () => {
    const { relErrors } = await compareBackends(
      [{ shape: [2, 4, 5, 6] }, { shape: [3, 3, 3, 6] }],
      (x, f) => {
        const op = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 10, 3], 2, 'same');
        const y = op(x!, f!);
        const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(op(a, b))))([
          x!,
          f!,
        ]);
        return [y, dx!, df!];
      },
    );
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });

  it('fused conv2d with bias and relu (what tfjs-layers runs) and its gradients', async () => {
    const { relErrors } = await compareBackends(
      [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4] }],
      (x, f, b) =>
        tf.grads((a: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
          tf.sum(
            tf.square(
              tf.fused.conv2d({
                x: a as tf.Tensor4D,
                filter: w as tf.Tensor4D,
                strides: 2,
                pad: 'same',
                bias,
                activation: 'relu',
              }),
            ),
          ),
        )([x!, f!, b!]),
    );
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });
});
