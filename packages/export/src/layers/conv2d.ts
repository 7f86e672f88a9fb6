import type { WeightData } from '../context.js';
import { unsupportedLayer } from '../errors.js';
import { attr } from '../ir.js';
import { permuteData } from '../tensor-utils.js';
import { applyConfigActivation } from './activations.js';
import { dataFormatOf, fromNCHW, pair, toNCHW } from './layout.js';
import { padAttributes } from './padding.js';
import type { LayerConversion } from './types.js';

/** tfjs conv kernel [kh, kw, in, out] -> ONNX Conv weight [out, in, kh, kw]. */
function convKernel(w: WeightData): WeightData {
  const p = permuteData(w.data, w.dims, [3, 2, 0, 1]);
  return { data: p.data, dims: p.dims };
}

/**
 * tfjs depthwise kernel [kh, kw, in, mult] -> ONNX grouped Conv weight [in·mult, 1, kh, kw].
 * tfjs orders depthwise output channels as c·mult + m, which is ONNX's group-major order.
 */
function depthwiseKernel(w: WeightData): WeightData {
  const [kh, kw, cin, mult] = w.dims as [number, number, number, number];
  const p = permuteData(w.data, w.dims, [2, 3, 0, 1]);
  return { data: p.data, dims: [cin * mult, 1, kh, kw] };
}

function geometry(args: LayerConversion) {
  const kernel = pair(args.config['kernelSize'], 1);
  const stride = pair(args.config['strides'], 1);
  const dilation = pair(args.config['dilationRate'], 1);
  if (![...kernel, ...stride, ...dilation].every((v) => Number.isInteger(v) && v > 0)) {
    throw unsupportedLayer(
      args.className,
      args.layer.name,
      'kernelSize/strides/dilationRate are not positive integers',
    );
  }
  const format = dataFormatOf(args);
  const pads = padAttributes(args, args.config['padding'], format, kernel, stride, dilation);
  return { kernel, stride, dilation, format, pads };
}

/** Conv2D, DepthwiseConv2D and SeparableConv2D as ONNX Conv (grouped for depthwise), NCHW inside. */
export async function conv2d(args: LayerConversion): Promise<string[]> {
  const { ctx, layer, className } = args;
  const b = ctx.builder;
  const g = geometry(args);
  const name = layer.name;
  const useBias = args.config['useBias'] !== false;
  const biasVar = useBias ? ctx.variable(layer, 'bias') : undefined;
  const bias = biasVar === undefined ? [] : [await ctx.weight(layer, biasVar, 'conv')];
  const inShape = args.inputShapes[0] ?? [];
  const channels = (g.format === 'channelsLast' ? inShape[3] : inShape[1]) ?? null;

  let x = toNCHW(b, args.inputs[0]!, g.format, name);
  const common = {
    strides: attr.ints(g.stride),
    dilations: attr.ints(g.dilation),
    kernel_shape: attr.ints(g.kernel),
  };
  if (className === 'Conv2D') {
    const w = await ctx.weight(layer, ctx.requireVariable(layer, 'kernel'), 'conv', convKernel);
    x = b.op('Conv', [x, w, ...bias], name, { ...common, ...g.pads, group: attr.int(1) });
  } else {
    if (channels === null)
      throw unsupportedLayer(className, name, 'the input channel count is unknown');
    const dw = await ctx.weight(
      layer,
      ctx.requireVariable(layer, 'depthwise_kernel'),
      'depthwise',
      depthwiseKernel,
    );
    if (className === 'DepthwiseConv2D') {
      x = b.op('Conv', [x, dw, ...bias], name, { ...common, ...g.pads, group: attr.int(channels) });
    } else {
      // SeparableConv2D: strided/dilated depthwise step, then a 1x1 pointwise conv with the bias.
      x = b.op('Conv', [x, dw], `${name}/depthwise`, {
        ...common,
        ...g.pads,
        group: attr.int(channels),
      });
      const pw = await ctx.weight(
        layer,
        ctx.requireVariable(layer, 'pointwise_kernel'),
        'pointwise',
        convKernel,
      );
      x = b.op('Conv', [x, pw, ...bias], name, {
        strides: attr.ints([1, 1]),
        dilations: attr.ints([1, 1]),
        kernel_shape: attr.ints([1, 1]),
        pads: attr.ints([0, 0, 0, 0]),
        group: attr.int(1),
      });
    }
  }
  const y = fromNCHW(b, x, g.format, name);
  return [applyConfigActivation(args, y)];
}
