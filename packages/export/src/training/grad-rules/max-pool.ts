import { attr, type IrGraph, type IrNode, intsAttr } from '../../ir.js';
import type { GradContext, GradRule } from '../grad-context.js';

/**
 * Whether the mask form applies: non-overlapping unpadded windows tiling x exactly, over a Relu
 * output. Then dx = dy (upsampled) where x equals its window's max. Ties get dy in every tied
 * position, which only happens (outside measure-zero cases) for windows of ReLU zeros, where
 * the Relu's own gradient then zeroes them: the same result as one winner per window.
 */
export function maxPoolUsesMask(graph: IrGraph, node: IrNode, xShape: readonly number[]): boolean {
  const kernel = intsAttr(node, 'kernel_shape');
  const strides = intsAttr(node, 'strides', [1, 1]);
  const pads = intsAttr(node, 'pads', [0, 0, 0, 0]);
  const producer = graph.nodes.find((n) => n.outputs[0] === node.inputs[0]);
  return (
    producer?.opType === 'Relu' &&
    pads.every((p) => p === 0) &&
    intsAttr(node, 'dilations', [1, 1]).every((d) => d === 1) &&
    kernel[0] === kernel[1] &&
    kernel.every((k, i) => k === strides[i] && xShape[2 + i]! % k === 0)
  );
}

/**
 * [N, C, H/k, W/k] → [N, C, H, W], each value repeated over its k×k window: nearest-neighbour
 * Resize with integer scales. (Profiled against a rank-6 Reshape + Expand, ~2.5× slower in ORT,
 * and SpaceToDepth + broadcast + DepthToSpace, slower too.)
 */
function upsample(ctx: GradContext, v: string, kernel: number[]): string {
  return ctx.b.op(
    'Resize',
    [v, '', ctx.b.constFloat([1, 1, kernel[0]!, kernel[1]!], [4])],
    undefined,
    {
      mode: attr.string('nearest'),
      coordinate_transformation_mode: attr.string('asymmetric'),
      nearest_mode: attr.string('floor'),
    },
  );
}

/**
 * MaxPool, in general through its Indices output (flat offsets into x, which the training graph asks the
 * forward MaxPool for): dy is scattered onto zeros at those offsets, adding where windows
 * overlap (so ties and overlaps behave like tfjs's one-winner-per-window gradient).
 */
export const maxPoolGrad: GradRule = (ctx, node, [dy]) => {
  const x = node.inputs[0]!;
  if (maxPoolUsesMask(ctx.graph, node, ctx.shape(x))) {
    const kernel = intsAttr(node, 'kernel_shape');
    const winner = ctx.b.op('Equal', [x, upsample(ctx, node.outputs[0]!, kernel)]);
    const mask = ctx.b.op('Cast', [winner], undefined, { to: attr.int(1) });
    return [ctx.b.op('Mul', [upsample(ctx, dy!, kernel), mask])];
  }
  const indices = node.outputs[1];
  if (indices === undefined || indices === '') {
    throw new Error(`training: MaxPool ${node.name} has no Indices output`);
  }
  const xs = ctx.shape(x);
  const total = xs.reduce((a, d) => a * d, 1);
  const kernel = intsAttr(node, 'kernel_shape');
  const strides = intsAttr(node, 'strides', [1, 1]);
  const overlapping = kernel.some((k, i) => k > strides[i]!);
  const b = ctx.b;
  const zeros = b.op('ConstantOfShape', [b.constInt64([total])]);
  const flat = b.op(
    'ScatterElements',
    [zeros, ctx.reshape(indices, [-1]), ctx.reshape(dy!, [-1])],
    undefined,
    { axis: attr.int(0), ...(overlapping ? { reduction: attr.string('add') } : {}) },
  );
  return [ctx.reshape(flat, xs)];
};
