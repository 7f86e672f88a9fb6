import { unsupportedLayer } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import type { LayerConversion } from './types.js';

/** Default ε of @ebmjs/core's l2Normalize: x / max(‖x‖, 1e-12). */
export const L2_EPSILON = 1e-12;

/**
 * x · rsqrt(max(Σx², ε²)) along `axis`, the formula of @ebmjs/core's l2Normalize (and of
 * tf.math.l2_normalize): zero vectors stay zero instead of becoming NaN as with LpNormalization.
 */
export function emitL2Normalize(
  b: GraphBuilder,
  x: string,
  axis: number,
  epsilon: number,
  name: string,
): string {
  const sq = b.reduce('ReduceSumSquare', x, [axis], true, `${name}/sum_sq`);
  const clamped = b.op('Max', [sq, b.constFloat([epsilon * epsilon])], `${name}/clamped`);
  const inv = b.op('Reciprocal', [b.op('Sqrt', [clamped], `${name}/norm`)], `${name}/inv_norm`);
  return b.op('Mul', [x, inv], name);
}

/** An L2-normalize layer (ebm.js models' or any custom layer with `axis` and `epsilon`/`eps`). */
export function l2NormalizeLayer(args: LayerConversion): string[] {
  const rank = (args.inputShapes[0] ?? []).length;
  const axisConfig = args.config['axis'] ?? -1;
  const axisValue =
    Array.isArray(axisConfig) && axisConfig.length === 1 ? axisConfig[0] : axisConfig;
  if (typeof axisValue !== 'number' || !Number.isInteger(axisValue)) {
    throw unsupportedLayer(args.className, args.layer.name, `axis ${JSON.stringify(axisConfig)}`);
  }
  const axis = axisValue < 0 ? axisValue + rank : axisValue;
  if (axis < 1 || axis >= rank) {
    throw unsupportedLayer(
      args.className,
      args.layer.name,
      `axis ${axisValue} of a rank-${rank} input`,
    );
  }
  const eps = Number(args.config['epsilon'] ?? args.config['eps'] ?? L2_EPSILON);
  if (!(eps > 0)) throw unsupportedLayer(args.className, args.layer.name, `epsilon ${eps}`);
  return [emitL2Normalize(args.ctx.builder, args.inputs[0]!, axis, eps, args.layer.name)];
}
