import type { GradRule } from '../grad-context.js';
import { keptDy } from './reduce.js';

/** y = ‖x‖₂ over axes: dx = dy·x / y (y kept-dims for the broadcast). */
export const reduceL2Grad: GradRule = (ctx, node, [dy]) => {
  const x = node.inputs[0]!;
  const k = keptDy(ctx, node, dy!);
  const y = keptDy(ctx, node, node.outputs[0]!).dy;
  return [ctx.b.op('Mul', [x, ctx.b.op('Div', [k.dy, y])]), undefined];
};
