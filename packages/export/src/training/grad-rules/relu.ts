import type { GradRule } from '../grad-context.js';

/**
 * y = max(x, 0): dx = dy where y > 0, else 0. Written dy·sign(y) (y ≥ 0, so sign(y) is exactly
 * the 0/1 mask): two same-shape passes, where ORT's three-input Where profiled ~3× slower.
 */
export const reluGrad: GradRule = (ctx, node, [dy]) => [
  ctx.b.op('Mul', [dy!, ctx.b.op('Sign', [node.outputs[0]!])]),
];
