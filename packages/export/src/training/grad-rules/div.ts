import type { GradRule } from '../grad-context.js';
import { binary } from './elementwise.js';

/** y = a / b: da = dy / b, db = −dy·y / b. */
export const divGrad: GradRule = (ctx, node, [dy]) => {
  const [, b] = node.inputs as [string, string];
  const y = node.outputs[0]!;
  return binary(
    ctx,
    node.inputs,
    y,
    () => ctx.b.op('Div', [dy!, b]),
    () => ctx.b.op('Neg', [ctx.b.op('Div', [ctx.b.op('Mul', [dy!, y]), b])]),
  );
};
