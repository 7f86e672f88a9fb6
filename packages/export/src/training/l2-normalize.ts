import type { GraphBuilder } from '../graph-builder.js';

/**
 * Rows of `x` scaled to unit L2 norm as @ebmjs/core's l2Normalize computes them:
 * x · rsqrt(max(Σx², 1e-24)) along axis 1.
 */
export function emitL2Normalize(b: GraphBuilder, x: string, name: string): string {
  const sq = b.reduce('ReduceSumSquare', x, [1], true, `${name}/sum_sq`);
  const clamped = b.op('Max', [sq, b.constFloat([1e-24])], `${name}/clamp`);
  return b.op('Mul', [x, b.op('Reciprocal', [b.op('Sqrt', [clamped])])], `${name}/normalized`);
}
