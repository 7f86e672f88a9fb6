import type { GradRule } from '../grad-context.js';
import { expandTo, keptDy } from './reduce.js';

/** y = sum over axes: dx = dy broadcast back over the reduced axes (axes input: no gradient). */
export const reduceSumGrad: GradRule = (ctx, node, [dy]) => [
  expandTo(ctx, keptDy(ctx, node, dy!).dy, ctx.shape(node.inputs[0]!)),
  undefined,
];
