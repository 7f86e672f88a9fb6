import { intsAttr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/** y = transpose(x, perm): dx = transpose(dy, perm⁻¹). */
export const transposeGrad: GradRule = (ctx, node, [dy]) => {
  const rank = ctx.shape(node.inputs[0]!).length;
  const perm = intsAttr(node, 'perm', [...Array(rank).keys()].reverse());
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return [ctx.b.transpose(dy!, inverse)];
};
