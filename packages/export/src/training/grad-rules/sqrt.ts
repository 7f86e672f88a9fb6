import type { GradRule } from '../grad-context.js';

/** y = √x: dx = dy / (2y). */
export const sqrtGrad: GradRule = (ctx, node, [dy]) => [
  ctx.b.op('Div', [ctx.b.op('Mul', [dy!, ctx.b.constFloat([0.5])]), node.outputs[0]!]),
];
