import { unsupportedLayer } from '../errors.js';
import { attr } from '../ir.js';
import { dataFormatOf, fromNCHW, pair, toNCHW } from './layout.js';
import { padAttributes } from './padding.js';
import type { LayerConversion } from './types.js';

/**
 * MaxPooling2D / AveragePooling2D as ONNX MaxPool / AveragePool. TF's 'same' average pooling
 * divides by the number of real (unpadded) pixels, hence count_include_pad = 0; max pooling
 * ignores padding in both.
 */
export function pooling2d(args: LayerConversion): string[] {
  const b = args.ctx.builder;
  const name = args.layer.name;
  const kernel = pair(args.config['poolSize'], 2);
  const stride = pair(args.config['strides'] ?? args.config['poolSize'], 2);
  if (![...kernel, ...stride].every((v) => Number.isInteger(v) && v > 0)) {
    throw unsupportedLayer(args.className, name, 'poolSize/strides are not positive integers');
  }
  const format = dataFormatOf(args);
  const pads = padAttributes(args, args.config['padding'], format, kernel, stride, [1, 1]);
  const x = toNCHW(b, args.inputs[0]!, format, name);
  const common = { kernel_shape: attr.ints(kernel), strides: attr.ints(stride), ...pads };
  const y =
    args.className === 'MaxPooling2D'
      ? b.op('MaxPool', [x], name, common)
      : b.op('AveragePool', [x], name, { ...common, count_include_pad: attr.int(0) });
  return [fromNCHW(b, y, format, name)];
}

/** Global{Average,Max}Pooling{1,2}D as a Reduce over the spatial axes (layout-free, no Transpose). */
export function globalPooling(args: LayerConversion): string[] {
  const b = args.ctx.builder;
  const is2d = args.className.endsWith('2D');
  const format = dataFormatOf(args);
  const axes = is2d
    ? format === 'channelsLast'
      ? [1, 2]
      : [2, 3]
    : format === 'channelsLast'
      ? [1]
      : [2];
  const keep = args.config['keepDims'] === true;
  const op = args.className.startsWith('GlobalMax') ? 'ReduceMax' : 'ReduceMean';
  const y = b.reduce(op, args.inputs[0]!, axes, keep, args.layer.name);
  b.graph.nodes[b.graph.nodes.length - 1]!.globalPoolRank = is2d ? 4 : 3;
  return [y];
}
