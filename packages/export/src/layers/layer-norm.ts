import { unsupportedLayer } from '../errors.js';
import type { LayerConversion } from './types.js';

/**
 * LayerNormalization, decomposed as tfjs computes it: mean and biased variance over the
 * normalized axes, then (x − mean)·rsqrt(var + ε)·γ + β. (ONNX's fused op only exists from opset
 * 17 and ORT's kernel computes the variance as E[x²] − E[x]², which rounds differently.)
 */
export async function layerNormalization(args: LayerConversion): Promise<string[]> {
  const { ctx, layer } = args;
  const b = ctx.builder;
  const rank = (args.inputShapes[0] ?? []).length;
  const axisConfig = args.config['axis'] ?? -1;
  const axes = (Array.isArray(axisConfig) ? axisConfig : [axisConfig]).map((a) =>
    typeof a === 'number' && a < 0 ? a + rank : a,
  );
  if (!axes.every((a) => typeof a === 'number' && a >= 1 && a < rank)) {
    throw unsupportedLayer(args.className, layer.name, `axis ${JSON.stringify(axisConfig)}`);
  }
  const sorted = [...(axes as number[])].sort((p, q) => p - q);
  const epsilon = Number(args.config['epsilon'] ?? 1e-3);
  const name = layer.name;
  const x = args.inputs[0]!;
  const mean = b.reduce('ReduceMean', x, sorted, true, `${name}/mean`);
  const centered = b.op('Sub', [x, mean], `${name}/centered`);
  const variance = b.reduce(
    'ReduceMean',
    b.op('Mul', [centered, centered], `${name}/sq`),
    sorted,
    true,
    `${name}/variance`,
  );
  const inv = b.op(
    'Reciprocal',
    [
      b.op(
        'Sqrt',
        [b.op('Add', [variance, b.constFloat([epsilon])], `${name}/var_eps`)],
        `${name}/std`,
      ),
    ],
    `${name}/rstd`,
  );
  let y = b.op('Mul', [centered, inv], `${name}/normalized`);
  // gamma/beta cover the normalized axes; stored with 1s elsewhere they broadcast like tfjs's.
  const shape = args.inputShapes[0] ?? [];
  const broadcastDims = shape.map((d, i) => (sorted.includes(i) ? Number(d) : 1));
  const reshape = (w: { data: Float32Array }) => ({ data: w.data, dims: broadcastDims });
  const gammaVar = args.config['scale'] === false ? undefined : ctx.variable(layer, 'gamma');
  const betaVar = args.config['center'] === false ? undefined : ctx.variable(layer, 'beta');
  if (gammaVar !== undefined) {
    y = b.op('Mul', [y, await ctx.weight(layer, gammaVar, 'ln', reshape)], `${name}/scaled`);
  }
  if (betaVar !== undefined)
    y = b.op('Add', [y, await ctx.weight(layer, betaVar, 'ln', reshape)], name);
  return [y];
}
