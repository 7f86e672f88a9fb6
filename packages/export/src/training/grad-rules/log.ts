import type { GradRule } from '../grad-context.js';

/** y = log(x): dx = dy / x. */
export const logGrad: GradRule = (ctx, node, [dy]) => [ctx.b.op('Div', [dy!, node.inputs[0]!])];
