import type { IrNode } from '../../ir.js';
import { intAttr } from '../../ir.js';
import type { GradContext } from '../grad-context.js';
import { reduceAxes } from '../shapes.js';

/**
 * dy of a Reduce* node brought back to the input's shape: reshaped to keep the reduced axes as 1
 * and expanded (ONNX broadcasting does the expansion inside the consumer's elementwise op).
 */
export function keptDy(ctx: GradContext, node: IrNode, dy: string): { dy: string; count: number } {
  const x = ctx.shape(node.inputs[0]!);
  const axes = reduceAxes(ctx.graph, node, x.length);
  const kept = x.map((d, i) => (axes.includes(i) ? 1 : d));
  const keep = intAttr(node, 'keepdims', 1) === 1;
  const count = axes.reduce((n, a) => n * x[a]!, 1);
  return { dy: keep ? dy : ctx.reshape(dy, kept), count };
}

/** A full-size copy of a kept-dims gradient (Expand to the input's shape). */
export function expandTo(ctx: GradContext, g: string, shape: readonly number[]): string {
  return ctx.b.op('Expand', [g, ctx.b.constInt64(shape)]);
}
