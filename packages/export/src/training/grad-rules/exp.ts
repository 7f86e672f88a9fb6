import type { GradRule } from '../grad-context.js';

/** y = exp(x): dx = dy·y (reuses the forward output). */
export const expGrad: GradRule = (ctx, node, [dy]) => [ctx.b.op('Mul', [dy!, node.outputs[0]!])];
