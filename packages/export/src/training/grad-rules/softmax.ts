import { intAttr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/** y = softmax(x) on one axis: dx = y·(dy − Σ dy·y). */
export const softmaxGrad: GradRule = (ctx, node, [dy]) => {
  const y = node.outputs[0]!;
  const rank = ctx.shape(y).length;
  let axis = intAttr(node, 'axis', -1);
  if (axis < 0) axis += rank;
  const s = ctx.reduceSum(ctx.b.op('Mul', [dy!, y]), [axis], true);
  return [ctx.b.op('Mul', [y, ctx.b.op('Sub', [dy!, s])])];
};
