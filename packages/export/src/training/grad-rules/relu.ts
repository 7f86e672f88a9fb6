import type { GradRule } from '../grad-context.js';

/** y = max(x, 0): dx = dy where y > 0, else 0 (one Where over the output, like tfjs's x > 0). */
export const reluGrad: GradRule = (ctx, node, [dy]) => {
  const zero = ctx.b.constFloat([0]);
  const positive = ctx.b.op('Greater', [node.outputs[0]!, zero]);
  return [ctx.b.op('Where', [positive, dy!, zero])];
};
