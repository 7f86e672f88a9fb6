import { attr, intAttr, intsAttr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

const SWAP_NC = [1, 0, 2, 3] as const;

/**
 * 2-D Conv (group 1). Input gradient: ConvTranspose of dy with the same weight (output_padding
 * makes it exactly x's size). Filter gradient: a Conv whose "batch" is x's channels and whose
 * "filters" are dy's channels, i.e. Conv(xᵀ, dyᵀ) with strides and dilations swapped, summing
 * over images and output pixels; sliced to the kernel size when the padding overshoots.
 */
export const convGrad: GradRule = (ctx, node, [dy]) => {
  const [x, w, bias] = node.inputs as [string, string, string | undefined];
  if (intAttr(node, 'group', 1) !== 1) throw new Error(`training: grouped Conv ${node.name}`);
  const xs = ctx.shape(x);
  const ws = ctx.shape(w);
  const ys = ctx.shape(node.outputs[0]!);
  const kernel = ws.slice(2);
  const strides = intsAttr(node, 'strides', [1, 1]);
  const dilations = intsAttr(node, 'dilations', [1, 1]);
  const pads = intsAttr(node, 'pads', [0, 0, 0, 0]);
  const b = ctx.b;

  let dx: string | undefined;
  if (ctx.needs(x)) {
    const outputPadding = [0, 1].map(
      (i) =>
        xs[2 + i]! -
        (strides[i]! * (ys[2 + i]! - 1) +
          (kernel[i]! - 1) * dilations[i]! +
          1 -
          pads[i]! -
          pads[i + 2]!),
    );
    dx = b.op('ConvTranspose', [dy!, w], undefined, {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(strides),
      dilations: attr.ints(dilations),
      pads: attr.ints(pads),
      output_padding: attr.ints(outputPadding),
      group: attr.int(1),
    });
  }

  let dw: string | undefined;
  if (ctx.needs(w)) {
    const xt = b.transpose(x, SWAP_NC);
    const dyt = b.transpose(dy!, SWAP_NC);
    // Output [C, M, kh', kw'] with kh' = H + pads − stride·(OH − 1) − 1, over dilation, + 1.
    let g = b.op('Conv', [xt, dyt], undefined, {
      kernel_shape: attr.ints(ys.slice(2)),
      strides: attr.ints(dilations),
      dilations: attr.ints(strides),
      pads: attr.ints(pads),
      group: attr.int(1),
    });
    const got = [0, 1].map(
      (i) =>
        Math.floor(
          (xs[2 + i]! + pads[i]! + pads[i + 2]! - (strides[i]! * (ys[2 + i]! - 1) + 1)) /
            dilations[i]!,
        ) + 1,
    );
    if (got[0] !== kernel[0] || got[1] !== kernel[1]) {
      g = b.op('Slice', [g, b.constInt64([0, 0]), b.constInt64(kernel), b.constInt64([2, 3])]);
    }
    dw = b.transpose(g, SWAP_NC);
  }

  const db =
    bias !== undefined && bias !== '' && ctx.needs(bias)
      ? ctx.reduceSum(dy!, [0, 2, 3], false)
      : undefined;
  return [dx, dw, db];
};
