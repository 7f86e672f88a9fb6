import { unsupportedLayer } from '../errors.js';
import { attr } from '../ir.js';
import type { LayerConversion } from './types.js';

/**
 * Add, Multiply, Average, Maximum, Minimum (and Keras's Subtract, which tfjs lacks): folded left
 * to right with binary ops, in the order tfjs-layers applies them, so float32 rounding matches.
 */
export function mergeLayer(args: LayerConversion): string[] {
  const b = args.ctx.builder;
  const name = args.layer.name;
  const inputs = args.inputs;
  const op = {
    Add: 'Add',
    Average: 'Add',
    Subtract: 'Sub',
    Multiply: 'Mul',
    Maximum: 'Max',
    Minimum: 'Min',
  }[args.className];
  if (op === undefined || inputs.length < 2) {
    throw unsupportedLayer(args.className, name, `${inputs.length} inputs`);
  }
  if (args.className === 'Subtract' && inputs.length !== 2) {
    throw unsupportedLayer(args.className, name, 'Subtract takes exactly 2 inputs');
  }
  const last = inputs.length - 1;
  let y = inputs[0]!;
  for (let i = 1; i <= last; i++) {
    const out = i === last && args.className !== 'Average' ? name : `${name}/${i}`;
    y = b.op(op, [y, inputs[i]!], out);
  }
  if (args.className === 'Average') y = b.op('Mul', [b.constFloat([1 / inputs.length]), y], name);
  return [y];
}

export function concatenate(args: LayerConversion): string[] {
  const rank = (args.inputShapes[0] ?? []).length;
  const axisConfig = Number(args.config['axis'] ?? -1);
  const axis = axisConfig < 0 ? axisConfig + rank : axisConfig;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw unsupportedLayer(
      args.className,
      args.layer.name,
      `axis ${axisConfig} of rank-${rank} inputs`,
    );
  }
  return [args.ctx.builder.op('Concat', args.inputs, args.layer.name, { axis: attr.int(axis) })];
}
