import { attr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/** y = A·B (rank 2): dA = dy·Bᵀ, dB = Aᵀ·dy, as Gemms with transpose flags (no Transpose nodes). */
export const matMulGrad: GradRule = (ctx, node, [dy]) => {
  const [a, b] = node.inputs as [string, string];
  if (ctx.shape(a).length !== 2 || ctx.shape(b).length !== 2) {
    throw new Error(`training: MatMul ${node.name} of rank > 2 is not supported`);
  }
  return [
    ctx.needs(a) ? ctx.b.op('Gemm', [dy!, b], undefined, { transB: attr.int(1) }) : undefined,
    ctx.needs(b) ? ctx.b.op('Gemm', [a, dy!], undefined, { transA: attr.int(1) }) : undefined,
  ];
};
