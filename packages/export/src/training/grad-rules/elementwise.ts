import type { GradContext, GradRule } from '../grad-context.js';

/** Shared by the binary broadcasting rules: reduce each input's gradient to its own shape. */
export function binary(
  ctx: GradContext,
  inputs: readonly string[],
  y: string,
  da: () => string,
  db: () => string,
): (string | undefined)[] {
  const [a, b] = inputs as [string, string];
  const ys = ctx.shape(y);
  return [
    ctx.needs(a) ? ctx.sumTo(da(), ys, ctx.shape(a)) : undefined,
    ctx.needs(b) ? ctx.sumTo(db(), ys, ctx.shape(b)) : undefined,
  ];
}

/** The rule for ops with no gradient path (integer outputs, constants). */
export const none: GradRule = (_ctx, node) => node.inputs.map(() => undefined);
