import type { GradRule } from '../grad-context.js';

/** y = −x: dx = −dy. */
export const negGrad: GradRule = (ctx, _node, [dy]) => [ctx.b.op('Neg', [dy!])];
