import { attr, intsAttr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/**
 * MaxPool through its Indices output (flat offsets into x, which the training graph asks the
 * forward MaxPool for): dy is scattered onto zeros at those offsets, adding where windows
 * overlap (so ties and overlaps behave like tfjs's one-winner-per-window gradient).
 */
export const maxPoolGrad: GradRule = (ctx, node, [dy]) => {
  const indices = node.outputs[1];
  if (indices === undefined || indices === '') {
    throw new Error(`training: MaxPool ${node.name} has no Indices output`);
  }
  const x = node.inputs[0]!;
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
