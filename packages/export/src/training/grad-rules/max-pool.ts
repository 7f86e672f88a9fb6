import { exportError } from '../../errors.js';
import { attr, type IrGraph, type IrNode, intsAttr } from '../../ir.js';
import type { GradContext, GradRule } from '../grad-context.js';

/**
 * Whether the mask form applies: non-overlapping unpadded windows tiling x exactly, over a Relu
 * output. Then dx is dy at the first position (row-major) of each window that equals the
 * window's max, as tfjs's MaxPoolGrad picks it, and 0 elsewhere. One winner matters: positive ties
 * are common (a flat image region gives equal conv outputs), and dy in every tied position
 * would multiply the gradient there.
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
 * The mask form, for k×k windows with stride k: for each window offset (i, j) in row-major order,
 * the strided slice x[:, :, i::k, j::k] is compared with the pooled max, a position wins if it
 * is equal and no earlier offset won, and the k² gradient planes dy·winner are interleaved back
 * by DepthToSpace (DCR: channel block i·k + j goes to offset (i, j)). All elementwise, which
 * profiles faster in ORT than MaxPool's Indices output and a scatter.
 */
function firstMaxGradient(ctx: GradContext, node: IrNode, dy: string): string {
  const b = ctx.b;
  const x = node.inputs[0]!;
  const [k] = intsAttr(node, 'kernel_shape');
  const [, , h, w] = ctx.shape(x);
  const max = node.outputs[0]!;
  const planes: string[] = [];
  let taken = '';
  for (let i = 0; i < k!; i++) {
    for (let j = 0; j < k!; j++) {
      const strided = b.op('Slice', [
        x,
        b.constInt64([i, j]),
        b.constInt64([h!, w!]),
        b.constInt64([2, 3]),
        b.constInt64([k!, k!]),
      ]);
      const equal = b.op('Equal', [strided, max]);
      const wins = taken === '' ? equal : b.op('And', [equal, b.op('Not', [taken])]);
      taken = taken === '' ? equal : b.op('Or', [taken, equal]);
      planes.push(b.op('Mul', [dy, b.op('Cast', [wins], undefined, { to: attr.int(1) })]));
    }
  }
  const stacked = b.op('Concat', planes, undefined, { axis: attr.int(1) });
  return b.op('DepthToSpace', [stacked], undefined, {
    blocksize: attr.int(k!),
    mode: attr.string('DCR'),
  });
}

/**
 * MaxPool, in general through its Indices output (flat offsets into x, which the training graph asks the
 * forward MaxPool for): dy is scattered onto zeros at those offsets, adding where windows
 * overlap (so ties and overlaps behave like tfjs's one-winner-per-window gradient).
 */
export const maxPoolGrad: GradRule = (ctx, node, [dy]) => {
  const x = node.inputs[0]!;
  if (maxPoolUsesMask(ctx.graph, node, ctx.shape(x))) return [firstMaxGradient(ctx, node, dy!)];
  const indices = node.outputs[1];
  if (indices === undefined || indices === '') {
    throw exportError(
      'UNSUPPORTED',
      `training: MaxPool ${node.name} needs its Indices output for its gradient, received a node with one output.`,
      { opType: 'MaxPool', node: node.name },
    );
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
