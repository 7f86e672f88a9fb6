import { unsupportedLayer } from '../errors.js';
import { attr } from '../ir.js';
import type { LayerConversion } from './types.js';

/**
 * BatchNormalization in inference form: ONNX BatchNormalization with the moving statistics. The
 * epsilon is always written, since tfjs defaults to 1e-3 and ONNX to 1e-5. ONNX normalizes axis
 * 1, so any other axis is moved there and back with Transposes (for NHWC images those cancel
 * against the neighbouring convolutions' Transposes).
 */
export async function batchNormalization(args: LayerConversion): Promise<string[]> {
  const { ctx, layer } = args;
  const b = ctx.builder;
  const shape = args.inputShapes[0] ?? [];
  const rank = shape.length;
  const axisConfig = args.config['axis'] ?? -1;
  const axes = Array.isArray(axisConfig) ? axisConfig : [axisConfig];
  if (axes.length !== 1 || typeof axes[0] !== 'number') {
    throw unsupportedLayer(
      args.className,
      layer.name,
      `normalization over axes ${JSON.stringify(axisConfig)}`,
    );
  }
  const axis = axes[0] < 0 ? axes[0] + rank : axes[0];
  if (axis < 1 || axis >= rank) {
    throw unsupportedLayer(args.className, layer.name, `axis ${axes[0]} of a rank-${rank} input`);
  }
  const channels = shape[axis];
  if (typeof channels !== 'number')
    throw unsupportedLayer(args.className, layer.name, 'unknown channel count');
  const epsilon = Number(args.config['epsilon'] ?? 1e-3);

  const mean = await ctx.weight(layer, ctx.requireVariable(layer, 'moving_mean'), 'bn');
  const variance = await ctx.weight(layer, ctx.requireVariable(layer, 'moving_variance'), 'bn');
  const gammaVar = args.config['scale'] === false ? undefined : ctx.variable(layer, 'gamma');
  const betaVar = args.config['center'] === false ? undefined : ctx.variable(layer, 'beta');
  const gamma =
    gammaVar === undefined
      ? ctx.parameter(`${layer.name}/gamma`, new Float32Array(channels).fill(1), [channels])
      : await ctx.weight(layer, gammaVar, 'bn');
  const beta =
    betaVar === undefined
      ? ctx.parameter(`${layer.name}/beta`, new Float32Array(channels), [channels])
      : await ctx.weight(layer, betaVar, 'bn');

  // Move the channel axis to position 1: [0, axis, the rest in order].
  const perm = [
    0,
    axis,
    ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 0 && i !== axis),
  ];
  const moved = axis !== 1;
  let x = args.inputs[0]!;
  if (moved) x = b.transpose(x, perm, `${layer.name}/to_channels_first`);
  let y = b.op('BatchNormalization', [x, gamma, beta, mean, variance], layer.name, {
    epsilon: attr.float(epsilon),
  });
  if (moved) {
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    y = b.transpose(y, inverse, `${layer.name}/to_channels_last`);
  }
  return [y];
}
