import { intAttr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/** y = concat(xs, axis): each dx is its slice of dy (one Split). */
export const concatGrad: GradRule = (ctx, node, [dy]) => {
  const shapes = node.inputs.map((x) => ctx.shape(x));
  let axis = intAttr(node, 'axis', 0);
  if (axis < 0) axis += shapes[0]!.length;
  const sizes = shapes.map((s) => s[axis]!);
  const parts = ctx.b.node('Split', [dy!, ctx.b.constInt64(sizes)], {
    attributes: { axis: { type: 'INT', value: axis } },
    outputs: node.inputs.length,
  });
  return node.inputs.map((x, i) => (ctx.needs(x) ? parts[i] : undefined));
};
