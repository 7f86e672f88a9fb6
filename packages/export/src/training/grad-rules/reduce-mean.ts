import type { GradRule } from '../grad-context.js';
import { expandTo, keptDy } from './reduce.js';

/** y = mean over axes: dx = dy / count, broadcast back over the reduced axes. */
export const reduceMeanGrad: GradRule = (ctx, node, [dy]) => {
  const k = keptDy(ctx, node, dy!);
  const scaled = ctx.b.op('Mul', [k.dy, ctx.b.constFloat([1 / k.count])]);
  return [expandTo(ctx, scaled, ctx.shape(node.inputs[0]!))];
};
