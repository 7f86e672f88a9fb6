import type { GradRule } from '../grad-context.js';
import { binary } from './elementwise.js';

/** y = a·b: da = dy·b, db = dy·a. */
export const mulGrad: GradRule = (ctx, node, [dy]) => {
  const [a, b] = node.inputs as [string, string];
  return binary(
    ctx,
    node.inputs,
    node.outputs[0]!,
    () => ctx.b.op('Mul', [dy!, b]),
    () => ctx.b.op('Mul', [dy!, a]),
  );
};
