import { unsupportedLayer } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { attr } from '../ir.js';
import type { LayerConversion } from './types.js';

// tfjs-core's selu constants (float64); ONNX's Selu defaults are the same values in float32.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Activation identifiers tfjs-layers serializes (getConfig().activation) that we translate. */
export const SUPPORTED_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardSigmoid',
  'softplus',
  'softsign',
  'tanh',
  'softmax',
  'logSoftmax',
  'gelu',
  'gelu_new',
  'mish',
  'swish',
] as const;

/** x·sigmoid(x): swish, also known as SiLU. */
function swish(b: GraphBuilder, x: string, name: string): string {
  return b.op('Mul', [x, b.op('Sigmoid', [x], `${name}/sigmoid`)], name);
}

/**
 * Emits tfjs-layers' activation `identifier` on x and returns the result. Formulas follow
 * tfjs-layers 4.x exactly: 'gelu' is the erf form x·½(1 + erf(x/√2)), 'gelu_new' the tanh
 * approximation, 'relu6' min(relu(x), 6), 'hardSigmoid' clip(0.2x + 0.5, 0, 1).
 */
export function emitActivation(
  b: GraphBuilder,
  identifier: unknown,
  x: string,
  name: string,
  where: { className: string; layerName: string },
): string {
  const id = identifier ?? 'linear';
  switch (id) {
    case 'linear':
      return x;
    case 'relu':
      return b.op('Relu', [x], name);
    case 'relu6':
      return b.op('Clip', [x, b.constFloat([0]), b.constFloat([6])], name);
    case 'elu':
      return b.op('Elu', [x], name, { alpha: attr.float(1) });
    case 'selu':
      return b.op('Selu', [x], name, {
        alpha: attr.float(SELU_ALPHA),
        gamma: attr.float(SELU_SCALE),
      });
    case 'sigmoid':
      return b.op('Sigmoid', [x], name);
    case 'hardSigmoid':
      return b.op('HardSigmoid', [x], name, { alpha: attr.float(0.2), beta: attr.float(0.5) });
    case 'softplus':
      return b.op('Softplus', [x], name);
    case 'softsign':
      return b.op('Softsign', [x], name);
    case 'tanh':
      return b.op('Tanh', [x], name);
    case 'softmax':
      return b.op('Softmax', [x], name, { axis: attr.int(-1) });
    case 'logSoftmax':
      return b.op('LogSoftmax', [x], name, { axis: attr.int(-1) });
    case 'gelu': {
      const erf = b.op(
        'Erf',
        [b.op('Div', [x, b.constFloat([Math.SQRT2])], `${name}/scaled`)],
        `${name}/erf`,
      );
      const cdf = b.op(
        'Mul',
        [b.constFloat([0.5]), b.op('Add', [b.constFloat([1]), erf], `${name}/one_plus`)],
        `${name}/cdf`,
      );
      return b.op('Mul', [x, cdf], name);
    }
    case 'gelu_new': {
      const cube = b.op('Pow', [x, b.constFloat([3])], `${name}/cube`);
      const inner = b.op(
        'Add',
        [x, b.op('Mul', [b.constFloat([0.044715]), cube], `${name}/cubic`)],
        `${name}/inner`,
      );
      const scaled = b.op('Mul', [b.constFloat([Math.sqrt(2 / Math.PI)]), inner], `${name}/scaled`);
      const onePlus = b.op(
        'Add',
        [b.constFloat([1]), b.op('Tanh', [scaled], `${name}/tanh`)],
        `${name}/one_plus`,
      );
      return b.op('Mul', [b.constFloat([0.5]), b.op('Mul', [x, onePlus], `${name}/x_times`)], name);
    }
    case 'mish':
      return b.op(
        'Mul',
        [x, b.op('Tanh', [b.op('Softplus', [x], `${name}/softplus`)], `${name}/tanh`)],
        name,
      );
    case 'swish':
    case 'silu':
      return swish(b, x, name);
    default:
      throw unsupportedLayer(where.className, where.layerName, `activation ${JSON.stringify(id)}`);
  }
}

/** The `activation` of a layer's config applied to its main output. */
export function applyConfigActivation(args: LayerConversion, x: string): string {
  return emitActivation(
    args.ctx.builder,
    args.config['activation'],
    x,
    `${args.layer.name}/activation`,
    {
      className: args.className,
      layerName: args.layer.name,
    },
  );
}

/** tf.layers.activation({activation}) */
export function activationLayer(args: LayerConversion): string[] {
  return [
    emitActivation(args.ctx.builder, args.config['activation'], args.inputs[0]!, args.layer.name, {
      className: args.className,
      layerName: args.layer.name,
    }),
  ];
}

/** ReLU layer: relu, or min(relu(x), maxValue). */
export function reluLayer(args: LayerConversion): string[] {
  const b = args.ctx.builder;
  const max = args.config['maxValue'];
  const x = args.inputs[0]!;
  if (max === null || max === undefined) return [b.op('Relu', [x], args.layer.name)];
  return [b.op('Clip', [x, b.constFloat([0]), b.constFloat([Number(max)])], args.layer.name)];
}

export function leakyReluLayer(args: LayerConversion): string[] {
  const alpha = Number(args.config['alpha'] ?? 0.3);
  return [
    args.ctx.builder.op('LeakyRelu', [args.inputs[0]!], args.layer.name, {
      alpha: attr.float(alpha),
    }),
  ];
}

export function eluLayer(args: LayerConversion): string[] {
  const alpha = Number(args.config['alpha'] ?? 1);
  return [
    args.ctx.builder.op('Elu', [args.inputs[0]!], args.layer.name, { alpha: attr.float(alpha) }),
  ];
}

export function thresholdedReluLayer(args: LayerConversion): string[] {
  const theta = Number(args.config['theta'] ?? 1);
  return [
    args.ctx.builder.op('ThresholdedRelu', [args.inputs[0]!], args.layer.name, {
      alpha: attr.float(theta),
    }),
  ];
}

export function softmaxLayer(args: LayerConversion): string[] {
  const axisConfig = args.config['axis'] ?? -1;
  const axis = Array.isArray(axisConfig) ? axisConfig : [axisConfig];
  if (axis.length !== 1 || typeof axis[0] !== 'number') {
    throw unsupportedLayer(
      args.className,
      args.layer.name,
      `softmax over axes ${JSON.stringify(axisConfig)}`,
    );
  }
  return [
    args.ctx.builder.op('Softmax', [args.inputs[0]!], args.layer.name, { axis: attr.int(axis[0]) }),
  ];
}

/** PReLU: a learned slope per element, broadcast over `sharedAxes` (stored with size 1 there). */
export async function preluLayer(args: LayerConversion): Promise<string[]> {
  const { ctx, layer } = args;
  const alpha = ctx.requireVariable(layer, 'alpha');
  const slope = await ctx.weight(layer, alpha, 'prelu');
  return [ctx.builder.op('PRelu', [args.inputs[0]!, slope], layer.name)];
}
