import { intAttr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/** y = log softmax(x) on one axis (LogSumExp's stable form): dx = dy − exp(y)·Σ dy. */
export const logSoftmaxGrad: GradRule = (ctx, node, [dy]) => {
  const y = node.outputs[0]!;
  const rank = ctx.shape(y).length;
  let axis = intAttr(node, 'axis', -1);
  if (axis < 0) axis += rank;
  const s = ctx.reduceSum(dy!, [axis], true);
  return [ctx.b.op('Sub', [dy!, ctx.b.op('Mul', [ctx.b.op('Exp', [y]), s])])];
};
