import { applyConfigActivation } from './activations.js';
import type { LayerConversion } from './types.js';

/**
 * Dense: y = act(x·W + b) over the last axis. Rank-2 inputs use Gemm; higher ranks MatMul + Add,
 * which ONNX broadcasts over the leading axes exactly as tfjs does. The kernel keeps tfjs's
 * [in, out] layout, so no transposed copy is stored.
 */
export async function dense(args: LayerConversion): Promise<string[]> {
  const { ctx, layer } = args;
  const b = ctx.builder;
  const x = args.inputs[0]!;
  const kernel = await ctx.weight(layer, ctx.requireVariable(layer, 'kernel'), 'dense');
  const biasVar = args.config['useBias'] === false ? undefined : ctx.variable(layer, 'bias');
  const bias = biasVar === undefined ? undefined : await ctx.weight(layer, biasVar, 'dense');
  const rank = args.inputShapes[0]?.length ?? 2;
  let y: string;
  if (rank === 2) {
    y = b.op('Gemm', bias === undefined ? [x, kernel] : [x, kernel, bias], layer.name);
  } else {
    y = b.op('MatMul', [x, kernel], bias === undefined ? layer.name : `${layer.name}/matmul`);
    if (bias !== undefined) y = b.op('Add', [y, bias], layer.name);
  }
  return [applyConfigActivation(args, y)];
}
