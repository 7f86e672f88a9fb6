import type { GradRule } from '../grad-context.js';

/** y = log(1 + eˣ): dx = dy·σ(x). */
export const softplusGrad: GradRule = (ctx, node, [dy]) => [
  ctx.b.op('Mul', [dy!, ctx.b.op('Sigmoid', [node.inputs[0]!])]),
];
