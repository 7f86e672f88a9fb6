import type { LayerConversion } from './types.js';

/** Rescaling: x·scale + offset, in tfjs's order (so rounding matches too). */
export function rescaling(args: LayerConversion): string[] {
  const b = args.ctx.builder;
  const scale = Number(args.config['scale'] ?? 1);
  const offset = Number(args.config['offset'] ?? 0);
  const scaled = b.op('Mul', [args.inputs[0]!, b.constFloat([scale])], `${args.layer.name}/scaled`);
  return [b.op('Add', [scaled, b.constFloat([offset])], args.layer.name)];
}
