import { attr } from '../ir.js';
import { permuteData } from '../tensor-utils.js';
import { applyConfigActivation } from './activations.js';
import type { LayerConversion } from './types.js';

/**
 * Dense: y = act(x·W + b) over the last axis. Rank-2 inputs use Gemm in the form torch.onnx
 * emits for nn.Linear: weight stored [out, in] with transB = 1. (Gemm with an [in, out] weight
 * and transB = 0 is valid ONNX too, but OpenCV's importer reads B as [out, in] and refuses it.)
 * Higher ranks use MatMul + Add with tfjs's [in, out] kernel, which ONNX broadcasts over the
 * leading axes exactly as tfjs does.
 */
export async function dense(args: LayerConversion): Promise<string[]> {
  const { ctx, layer } = args;
  const b = ctx.builder;
  const x = args.inputs[0]!;
  const kernelVar = ctx.requireVariable(layer, 'kernel');
  const biasVar = args.config['useBias'] === false ? undefined : ctx.variable(layer, 'bias');
  const bias = biasVar === undefined ? undefined : await ctx.weight(layer, biasVar, 'dense');
  const rank = args.inputShapes[0]?.length ?? 2;
  let y: string;
  if (rank === 2) {
    const weight = await ctx.weight(layer, kernelVar, 'dense/out_in', (w) =>
      permuteData(w.data, w.dims, [1, 0]),
    );
    y = b.op('Gemm', bias === undefined ? [x, weight] : [x, weight, bias], layer.name, {
      transB: attr.int(1),
    });
  } else {
    const kernel = await ctx.weight(layer, kernelVar, 'dense');
    y = b.op('MatMul', [x, kernel], bias === undefined ? layer.name : `${layer.name}/matmul`);
    if (bias !== undefined) y = b.op('Add', [y, bias], layer.name);
  }
  return [applyConfigActivation(args, y)];
}
