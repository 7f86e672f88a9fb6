import type { GradRule } from '../grad-context.js';

/** Reshape / Flatten: dx = dy reshaped to x's shape (the shape input has no gradient). */
export const reshapeGrad: GradRule = (ctx, node, [dy]) => [
  ctx.reshape(dy!, ctx.shape(node.inputs[0]!)),
  undefined,
];
