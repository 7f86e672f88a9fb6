import { exportError } from '../../errors.js';
import { attr, intAttr, intsAttr } from '../../ir.js';
import type { GradContext, GradRule } from '../grad-context.js';

const SWAP_NC = [1, 0, 2, 3] as const;

/**
 * 2-D Conv, any strides, dilations, explicit pads and groups. Input gradient: ConvTranspose of
 * dy with the same weight and group (output_padding makes it exactly x's size). Filter
 * gradient: a Conv whose "batch" is x's channels and whose "filters" are dy's channels, i.e.
 * Conv(xᵀ, dyᵀ) with strides and dilations swapped, summing over images and output pixels;
 * sliced to the kernel size when the padding overshoots; per group (channel slices of x and
 * dy), concatenated over the output channels.
 */
export const convGrad: GradRule = (ctx, node, [dy]) => {
  const [x, w, bias] = node.inputs as [string, string, string | undefined];
  const group = intAttr(node, 'group', 1);
  const xs = ctx.shape(x);
  if (xs.length !== 4) {
    throw exportError(
      'UNSUPPORTED',
      `training: Conv ${node.name} over a rank-${xs.length} input; the gradient rule takes 2-D convolutions (rank 4).`,
      { opType: 'Conv', node: node.name },
    );
  }
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
      group: attr.int(group),
    });
  }

  let dw: string | undefined;
  if (ctx.needs(w)) {
    const c = xs[1]! / group;
    const m = ws[0]! / group;
    const slice = (v: string, size: number, g: number) =>
      group === 1
        ? v
        : b.op('Slice', [
            v,
            b.constInt64([g * size]),
            b.constInt64([(g + 1) * size]),
            b.constInt64([1]),
          ]);
    const parts = Array.from({ length: group }, (_, g) =>
      filterGradient(
        ctx,
        slice(x, c, g),
        slice(dy!, m, g),
        xs,
        ys,
        kernel,
        strides,
        dilations,
        pads,
      ),
    );
    dw = parts.length === 1 ? parts[0]! : b.op('Concat', parts, undefined, { axis: attr.int(0) });
  }

  const db =
    bias !== undefined && bias !== '' && ctx.needs(bias)
      ? ctx.reduceSum(dy!, [0, 2, 3], false)
      : undefined;
  return [dx, dw, db];
};

/** dL/dW of one group: [M, C, kh, kw] from x [N, C, H, W] and dy [N, M, OH, OW]. */
function filterGradient(
  ctx: GradContext,
  x: string,
  dy: string,
  xs: readonly number[],
  ys: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  pads: readonly number[],
): string {
  const b = ctx.b;
  const xt = b.transpose(x, SWAP_NC);
  const dyt = b.transpose(dy, SWAP_NC);
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
  return b.transpose(g, SWAP_NC);
}
