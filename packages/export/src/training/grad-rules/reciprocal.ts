import type { GradRule } from '../grad-context.js';

/** y = 1/x: dx = −dy·y². */
export const reciprocalGrad: GradRule = (ctx, node, [dy]) => {
  const y = node.outputs[0]!;
  return [ctx.b.op('Neg', [ctx.b.op('Mul', [dy!, ctx.b.op('Mul', [y, y])])])];
};
