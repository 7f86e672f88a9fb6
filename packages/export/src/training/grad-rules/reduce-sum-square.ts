import type { GradRule } from '../grad-context.js';
import { keptDy } from './reduce.js';

/** y = Σ x²: dx = 2·x·dy (broadcast by the Mul). */
export const reduceSumSquareGrad: GradRule = (ctx, node, [dy]) => {
  const x = node.inputs[0]!;
  const two = ctx.b.op('Mul', [keptDy(ctx, node, dy!).dy, ctx.b.constFloat([2])]);
  return [ctx.b.op('Mul', [x, two]), undefined];
};
