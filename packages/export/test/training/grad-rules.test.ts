import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { GraphBuilder } from '../../src/graph-builder.js';
import { attr } from '../../src/ir.js';
import { GRAD_RULES } from '../../src/training/grad-rules/index.js';
import { gradError, type OpCase } from './op-harness.js';

useCpuBackend();

const nhwc = (x: tf.Tensor) => tf.transpose(x, [0, 2, 3, 1]);
const nchw = (x: tf.Tensor) => tf.transpose(x, [0, 3, 1, 2]);
const op =
  (type: string, attributes: Record<string, ReturnType<typeof attr.int>> = {}) =>
  (b: GraphBuilder, xs: string[]) =>
    b.op(type, xs, undefined, attributes);
const reduce = (type: string, axes: number[], keep: boolean) => (b: GraphBuilder, xs: string[]) =>
  b.reduce(type, xs[0]!, axes, keep);

/** tfjs conv over NCHW x and an ONNX [out, in, kh, kw] weight with explicit ONNX pads. */
function tfConv(x: tf.Tensor, w: tf.Tensor, strides: number, pads: number[]) {
  const explicit: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [pads[0]!, pads[2]!],
    [pads[1]!, pads[3]!],
    [0, 0],
  ];
  return nchw(
    tf.conv2d(
      nhwc(x) as tf.Tensor4D,
      tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D,
      strides,
      explicit,
    ),
  );
}

function bnTraining(b: GraphBuilder, xs: string[]): string {
  return b.node('BatchNormTraining', xs, {
    outputs: 4,
    attributes: { epsilon: attr.float(1e-3) },
  })[0]!;
}
function tfBn(x: tf.Tensor, g: tf.Tensor, beta: tf.Tensor) {
  const axes = x.rank === 4 ? [0, 2, 3] : [0];
  const shape = x.rank === 4 ? [1, -1, 1, 1] : [1, -1];
  const { mean, variance } = tf.moments(x, axes, true);
  const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3)));
  return tf.add(tf.mul(xhat, tf.reshape(g, shape)), tf.reshape(beta, shape));
}

const CASES: Record<string, OpCase[]> = {
  Conv: [
    {
      inputs: [{ shape: [2, 3, 7, 6] }, { shape: [4, 3, 3, 3] }],
      onnx: op('Conv', { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }),
      tfjs: (x, w) => tfConv(x!, w!, 1, [1, 1, 1, 1]),
    },
    {
      // Strided, asymmetric padding, with a bias: the filter gradient needs its Slice.
      inputs: [{ shape: [2, 2, 7, 8] }, { shape: [3, 2, 3, 3] }, { shape: [3] }],
      onnx: op('Conv', {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 0, 1, 1]),
      }),
      tfjs: (x, w, bias) =>
        tf.add(tfConv(x!, w!, 2, [1, 0, 1, 1]), tf.reshape(bias!, [1, -1, 1, 1])),
    },
    {
      // ResNet's 1×1 stride-2 projection shortcut over an odd size (the last row/column unread).
      inputs: [{ shape: [2, 3, 7, 5] }, { shape: [4, 3, 1, 1] }],
      onnx: op('Conv', { kernel_shape: attr.ints([1, 1]), strides: attr.ints([2, 2]) }),
      tfjs: (x, w) => tfConv(x!, w!, 2, [0, 0, 0, 0]),
    },
    {
      // ResNet's ImageNet stem: 7×7 stride 2, 'same' on an odd size (pads 3, 3).
      inputs: [{ shape: [2, 3, 11, 9] }, { shape: [2, 3, 7, 7] }],
      onnx: op('Conv', {
        kernel_shape: attr.ints([7, 7]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([3, 3, 3, 3]),
      }),
      tfjs: (x, w) => tfConv(x!, w!, 2, [3, 3, 3, 3]),
    },
    {
      // Dilated (2, 1), asymmetric pads (tfjs takes strides or dilations, not both).
      inputs: [{ shape: [1, 2, 9, 8] }, { shape: [3, 2, 3, 2] }],
      onnx: op('Conv', {
        kernel_shape: attr.ints([3, 2]),
        dilations: attr.ints([2, 1]),
        pads: attr.ints([2, 0, 1, 1]),
      }),
      // tfjs has no gradient for dilated convs: the reference dilates the kernel with zero rows.
      tfjs: (x, w) => {
        const row = (i: number) => tf.slice(w!, [0, 0, i, 0], [-1, -1, 1, -1]);
        const zero = tf.zerosLike(row(0));
        const dilated = tf.concat([row(0), zero, row(1), zero, row(2)], 2);
        return tfConv(x!, dilated, 1, [2, 0, 1, 1]);
      },
    },
    {
      // Grouped (2 groups of 2 input, 3 output channels), strided and padded, with a bias.
      inputs: [{ shape: [2, 4, 7, 6] }, { shape: [6, 2, 3, 3] }, { shape: [6] }],
      onnx: op('Conv', {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 0]),
        group: attr.int(2),
      }),
      tfjs: (x, w, bias) => {
        const parts = [0, 1].map((g) =>
          tfConv(
            tf.slice(x!, [0, 2 * g, 0, 0], [-1, 2, -1, -1]),
            tf.slice(w!, [3 * g, 0, 0, 0], [3, -1, -1, -1]),
            2,
            [1, 1, 1, 0],
          ),
        );
        return tf.add(tf.concat(parts, 1), tf.reshape(bias!, [1, -1, 1, 1]));
      },
    },
    {
      // Depthwise (group = channels).
      inputs: [{ shape: [2, 3, 6, 5] }, { shape: [3, 1, 3, 3] }],
      onnx: op('Conv', {
        kernel_shape: attr.ints([3, 3]),
        pads: attr.ints([1, 1, 1, 1]),
        group: attr.int(3),
      }),
      tfjs: (x, w) =>
        nchw(
          tf.depthwiseConv2d(
            nhwc(x!) as tf.Tensor4D,
            tf.transpose(w!, [2, 3, 0, 1]) as tf.Tensor4D,
            1,
            [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ],
          ),
        ),
    },
  ],
  MaxPool: [
    {
      // 'same' pooling of an odd size: padded, through the Indices output.
      inputs: [{ shape: [2, 3, 7, 5] }],
      onnx: (b, [x]) =>
        b.node('MaxPool', [x!], {
          outputs: 2,
          attributes: {
            kernel_shape: attr.ints([2, 2]),
            strides: attr.ints([2, 2]),
            pads: attr.ints([0, 0, 1, 1]),
          },
        })[0]!,
      tfjs: (x) => nchw(tf.maxPool(nhwc(x!) as tf.Tensor4D, 2, 2, 'same')),
    },
    {
      // Over a Relu, exact 2×2 tiling: the mask form (ties only among ReLU zeros).
      inputs: [{ shape: [2, 3, 8, 6] }],
      onnx: (b, [x]) =>
        b.op('MaxPool', [b.op('Relu', [x!])], undefined, {
          kernel_shape: attr.ints([2, 2]),
          strides: attr.ints([2, 2]),
        }),
      tfjs: (x) => nchw(tf.maxPool(nhwc(tf.relu(x!)) as tf.Tensor4D, 2, 2, 'valid')),
    },
    {
      // The mask form with positive ties (5 levels: most windows tie): one winner per window,
      // the first in row-major order, as tfjs.
      inputs: [{ shape: [2, 3, 8, 6], levels: 5 }],
      onnx: (b, [x]) =>
        b.op('MaxPool', [b.op('Relu', [x!])], undefined, {
          kernel_shape: attr.ints([2, 2]),
          strides: attr.ints([2, 2]),
        }),
      tfjs: (x) => nchw(tf.maxPool(nhwc(tf.relu(x!)) as tf.Tensor4D, 2, 2, 'valid')),
    },
    {
      // ResNet's ImageNet stem pool: 3×3 stride 2 'same' on an odd size (overlapping windows,
      // pads 1 on each side), through the Indices output with a summing scatter.
      inputs: [{ shape: [2, 3, 9, 7] }],
      onnx: (b, [x]) =>
        b.node('MaxPool', [x!], {
          outputs: 2,
          attributes: {
            kernel_shape: attr.ints([3, 3]),
            strides: attr.ints([2, 2]),
            pads: attr.ints([1, 1, 1, 1]),
          },
        })[0]!,
      tfjs: (x) => nchw(tf.maxPool(nhwc(x!) as tf.Tensor4D, 3, 2, 'same')),
    },
    {
      // 3×3 windows with stride 3 and ties: the mask form for k = 3.
      inputs: [{ shape: [1, 2, 9, 6], levels: 4 }],
      onnx: (b, [x]) =>
        b.op('MaxPool', [b.op('Relu', [x!])], undefined, {
          kernel_shape: attr.ints([3, 3]),
          strides: attr.ints([3, 3]),
        }),
      tfjs: (x) => nchw(tf.maxPool(nhwc(tf.relu(x!)) as tf.Tensor4D, 3, 3, 'valid')),
    },
  ],
  BatchNormTraining: [
    {
      inputs: [{ shape: [4, 3, 5, 5], lo: -1, hi: 3 }, { shape: [3] }, { shape: [3] }],
      onnx: bnTraining,
      tfjs: (x, g, beta) => tfBn(x!, g!, beta!),
    },
    {
      inputs: [{ shape: [6, 5] }, { shape: [5] }, { shape: [5] }],
      onnx: bnTraining,
      tfjs: (x, g, beta) => tfBn(x!, g!, beta!),
    },
  ],
  Gemm: [
    {
      inputs: [{ shape: [5, 4] }, { shape: [3, 4] }, { shape: [3] }],
      onnx: op('Gemm', { transB: attr.int(1) }),
      tfjs: (a, w, c) => tf.add(tf.matMul(a!, w!, false, true), c!),
    },
    {
      inputs: [{ shape: [5, 4] }, { shape: [4, 3] }],
      onnx: op('Gemm'),
      tfjs: (a, w) => tf.matMul(a!, w!),
    },
  ],
  MatMul: [
    {
      inputs: [{ shape: [3, 6] }, { shape: [6, 2] }],
      onnx: op('MatMul'),
      tfjs: (a, w) => tf.matMul(a!, w!),
    },
  ],
  Relu: [{ inputs: [{ shape: [3, 7] }], onnx: op('Relu'), tfjs: (x) => tf.relu(x!) }],
  ReduceMean: [
    {
      inputs: [{ shape: [2, 3, 4, 5] }],
      onnx: reduce('ReduceMean', [2, 3], false),
      tfjs: (x) => tf.mean(x!, [2, 3]),
    },
    {
      // GlobalAveragePooling2D over an odd feature map, kept dims.
      inputs: [{ shape: [3, 2, 5, 3] }],
      onnx: reduce('ReduceMean', [2, 3], true),
      tfjs: (x) => tf.mean(x!, [2, 3], true),
    },
  ],
  ReduceSum: [
    {
      inputs: [{ shape: [3, 4] }],
      onnx: reduce('ReduceSum', [0], true),
      tfjs: (x) => tf.sum(x!, 0, true),
    },
  ],
  ReduceSumSquare: [
    {
      inputs: [{ shape: [3, 4] }],
      onnx: reduce('ReduceSumSquare', [1], true),
      tfjs: (x) => tf.sum(tf.square(x!), 1, true),
    },
  ],
  ReduceL2: [
    {
      inputs: [{ shape: [3, 4], lo: 0.2, hi: 1 }],
      onnx: reduce('ReduceL2', [1], false),
      tfjs: (x) => tf.norm(x!, 2, 1),
    },
  ],
  Add: [
    {
      inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }],
      onnx: op('Add'),
      tfjs: (a, c) => tf.add(a!, c!),
    },
    {
      // A residual Add (same shapes), and broadcasting on both sides at once.
      inputs: [{ shape: [2, 3, 5, 5] }, { shape: [2, 3, 5, 5] }],
      onnx: op('Add'),
      tfjs: (a, c) => tf.add(a!, c!),
    },
    {
      inputs: [{ shape: [2, 1, 5] }, { shape: [3, 1] }],
      onnx: op('Add'),
      tfjs: (a, c) => tf.add(a!, c!),
    },
  ],
  Sub: [
    {
      inputs: [{ shape: [4] }, { shape: [2, 3, 4] }],
      onnx: op('Sub'),
      tfjs: (a, c) => tf.sub(a!, c!),
    },
  ],
  Mul: [
    {
      inputs: [{ shape: [2, 1, 4] }, { shape: [3, 1] }],
      onnx: op('Mul'),
      tfjs: (a, c) => tf.mul(a!, c!),
    },
  ],
  Div: [
    {
      inputs: [{ shape: [2, 3, 4] }, { shape: [3, 4], lo: 0.5, hi: 1.5 }],
      onnx: op('Div'),
      tfjs: (a, c) => tf.div(a!, c!),
    },
  ],
  Max: [
    {
      // Same shapes: tfjs 4.22's maximum gradient does not reduce broadcast inputs (ours does).
      inputs: [{ shape: [2, 3] }, { shape: [2, 3] }],
      onnx: op('Max'),
      tfjs: (a, c) => tf.maximum(a!, c!),
    },
  ],
  Neg: [{ inputs: [{ shape: [5] }], onnx: op('Neg'), tfjs: (x) => tf.neg(x!) }],
  Identity: [{ inputs: [{ shape: [5] }], onnx: op('Identity'), tfjs: (x) => tf.mul(x!, 1) }],
  Exp: [{ inputs: [{ shape: [3, 4] }], onnx: op('Exp'), tfjs: (x) => tf.exp(x!) }],
  Softplus: [
    {
      inputs: [{ shape: [3, 4], lo: -4, hi: 4 }],
      onnx: op('Softplus'),
      tfjs: (x) => tf.softplus(x!),
    },
  ],
  Log: [{ inputs: [{ shape: [3, 4], lo: 0.5, hi: 2 }], onnx: op('Log'), tfjs: (x) => tf.log(x!) }],
  Sqrt: [
    { inputs: [{ shape: [3, 4], lo: 0.5, hi: 2 }], onnx: op('Sqrt'), tfjs: (x) => tf.sqrt(x!) },
  ],
  Reciprocal: [
    {
      inputs: [{ shape: [3, 4], lo: 0.5, hi: 2 }],
      onnx: op('Reciprocal'),
      tfjs: (x) => tf.reciprocal(x!),
    },
  ],
  Softmax: [
    {
      inputs: [{ shape: [3, 5], lo: -3, hi: 3 }],
      onnx: op('Softmax', { axis: attr.int(1) }),
      tfjs: (x) => tf.softmax(x!),
    },
  ],
  LogSoftmax: [
    {
      inputs: [{ shape: [3, 5], lo: -3, hi: 3 }],
      onnx: op('LogSoftmax', { axis: attr.int(1) }),
      tfjs: (x) => tf.logSoftmax(x!),
    },
  ],
  Concat: [
    {
      inputs: [{ shape: [2, 3] }, { shape: [2, 5] }],
      onnx: op('Concat', { axis: attr.int(1) }),
      tfjs: (a, c) => tf.concat([a!, c!], 1),
    },
  ],
  Reshape: [
    {
      inputs: [{ shape: [2, 3, 4] }],
      onnx: (b, [x]) => b.op('Reshape', [x!, b.constInt64([6, 4])]),
      tfjs: (x) => tf.reshape(x!, [6, 4]),
    },
  ],
  Flatten: [
    {
      inputs: [{ shape: [2, 3, 2, 2] }],
      onnx: op('Flatten', { axis: attr.int(1) }),
      tfjs: (x) => tf.reshape(x!, [2, 12]),
    },
  ],
  Transpose: [
    {
      inputs: [{ shape: [2, 3, 4] }],
      onnx: op('Transpose', { perm: attr.ints([2, 0, 1]) }),
      tfjs: (x) => tf.transpose(x!, [2, 0, 1]),
    },
  ],
};

describe('gradient rules against tf.grads (cpu backend), ≤ 1e-4 relative', () => {
  it('every registered rule has a case', () => {
    const tested = new Set(Object.keys(CASES));
    // StopGradient is ebm.js's marker, an Identity by the time a runtime sees it: the negative
    // cosine's case in loss-emitters.test.ts and the PIRL step's parity test cover it.
    const untested = new Set(['Shape', 'StopGradient']);
    expect(Object.keys(GRAD_RULES).filter((k) => !tested.has(k) && !untested.has(k))).toEqual([]);
  });
  it('an op without a rule, or a form a rule does not take, is an UNSUPPORTED EbmError naming it', async () => {
    const run = (c: Omit<OpCase, 'tfjs'>) => gradError({ ...c, tfjs: (x) => x! });
    await expect(run({ inputs: [{ shape: [3] }], onnx: op('Sign') })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('ONNX Sign'),
    });
    await expect(
      run({
        inputs: [{ shape: [4, 5] }, { shape: [4, 3] }],
        onnx: op('Gemm', { transA: attr.int(1) }),
      }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('Gemm') });
  });
  for (const [name, cases] of Object.entries(CASES)) {
    cases.forEach((c, i) => {
      it(`${name} #${i + 1}`, async () => {
        const { forward, grads } = await gradError({ ...c, seed: 11 + i });
        expect(forward, 'forward').toBeLessThan(1e-5);
        grads.forEach((e, k) => expect(e, `gradient of input ${k}`).toBeLessThan(1e-4));
      });
    });
  }
});
