import { exportError } from '../../errors.js';
import { attr, intAttr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/**
 * y = A·op(B) + C (alpha = beta = 1, transA = 0; op(B) = Bᵀ when transB): each gradient is one
 * more Gemm with the transposes folded into its flags, C's summed over the broadcast rows.
 */
export const gemmGrad: GradRule = (ctx, node, [dy]) => {
  const [a, w, c] = node.inputs as [string, string, string | undefined];
  const alpha = node.attributes['alpha'];
  const beta = node.attributes['beta'];
  if (
    intAttr(node, 'transA', 0) !== 0 ||
    (alpha?.type === 'FLOAT' && alpha.value !== 1) ||
    (beta?.type === 'FLOAT' && beta.value !== 1)
  ) {
    throw exportError(
      'UNSUPPORTED',
      `training: Gemm ${node.name} with transA = 1, alpha ≠ 1 or beta ≠ 1 has no gradient rule (the Dense converter emits transA = 0, alpha = beta = 1).`,
      { opType: 'Gemm', node: node.name },
    );
  }
  const transB = intAttr(node, 'transB', 0) === 1;
  const t = (x: number) => attr.int(x);
  const da = ctx.needs(a)
    ? ctx.b.op('Gemm', [dy!, w], undefined, transB ? {} : { transB: t(1) })
    : undefined;
  const dw = ctx.needs(w)
    ? transB
      ? ctx.b.op('Gemm', [dy!, a], undefined, { transA: t(1) })
      : ctx.b.op('Gemm', [a, dy!], undefined, { transA: t(1) })
    : undefined;
  const dc =
    c !== undefined && c !== '' && ctx.needs(c)
      ? ctx.sumTo(dy!, ctx.shape(node.outputs[0]!), ctx.shape(c))
      : undefined;
  return [da, dw, dc];
};
