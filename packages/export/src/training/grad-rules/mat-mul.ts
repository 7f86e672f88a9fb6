import { exportError } from '../../errors.js';
import { attr } from '../../ir.js';
import type { GradRule } from '../grad-context.js';

/** y = A·B (rank 2): dA = dy·Bᵀ, dB = Aᵀ·dy, as Gemms with transpose flags (no Transpose nodes). */
export const matMulGrad: GradRule = (ctx, node, [dy]) => {
  const [a, b] = node.inputs as [string, string];
  if (ctx.shape(a).length !== 2 || ctx.shape(b).length !== 2) {
    throw exportError(
      'UNSUPPORTED',
      `training: MatMul ${node.name} needs rank-2 inputs, received ranks ${ctx.shape(a).length} and ${ctx.shape(b).length}.`,
      { opType: 'MatMul', node: node.name },
    );
  }
  return [
    ctx.needs(a) ? ctx.b.op('Gemm', [dy!, b], undefined, { transB: attr.int(1) }) : undefined,
    ctx.needs(b) ? ctx.b.op('Gemm', [a, dy!], undefined, { transA: attr.int(1) }) : undefined,
  ];
};
