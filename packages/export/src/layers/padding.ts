import { unsupportedLayer } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { attr } from '../ir.js';
import { type DataFormat, spatialDims } from './layout.js';
import type { LayerConversion } from './types.js';

/**
 * TensorFlow's 'same' padding along one axis: output ceil(in / stride), the total padding split
 * with the extra pixel at the end. Explicit pads reproduce this exactly; ONNX's SAME_UPPER agrees
 * only when the runtime computes the same total, so it is used only for unknown sizes.
 */
export function samePadding(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX Conv/Pool padding attributes (pads = [top, left, bottom, right]) for a tfjs padding mode. */
export function padAttributes(
  args: LayerConversion,
  padding: unknown,
  format: DataFormat,
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
): Record<string, ReturnType<typeof attr.ints> | ReturnType<typeof attr.string>> {
  if (padding === 'valid' || padding === undefined) return { pads: attr.ints([0, 0, 0, 0]) };
  if (padding !== 'same')
    throw unsupportedLayer(args.className, args.layer.name, `padding "${String(padding)}"`);
  const [h, w] = spatialDims(args.inputShapes[0] ?? [], format);
  // With stride 1 the total padding is (k − 1)·d whatever the size, so unknown sizes still get
  // explicit pads; only strided axes of unknown size need SAME_UPPER (TF's split, stride > 1
  // implies dilation 1 in tfjs, and ORT rejects SAME_* with dilation).
  const known = (size: number | null, axis: 0 | 1) => size !== null || stride[axis] === 1;
  if (!known(h, 0) || !known(w, 1)) {
    if (dilation[0] !== 1 || dilation[1] !== 1) {
      throw unsupportedLayer(
        args.className,
        args.layer.name,
        "'same' padding with strides and dilation on an input of unknown size",
      );
    }
    return { auto_pad: attr.string('SAME_UPPER') };
  }
  const [top, bottom] = samePadding(h ?? 1, kernel[0], stride[0], dilation[0]);
  const [left, right] = samePadding(w ?? 1, kernel[1], stride[1], dilation[1]);
  return { pads: attr.ints([top, left, bottom, right]) };
}

/** ZeroPadding2D: a constant Pad in the layer's own layout. */
export function zeroPadding2d(args: LayerConversion): string[] {
  const b = args.ctx.builder;
  const p = args.config['padding'];
  let tb: [number, number];
  let lr: [number, number];
  if (typeof p === 'number') {
    tb = [p, p];
    lr = [p, p];
  } else if (Array.isArray(p) && p.length === 2 && p.every((q) => typeof q === 'number')) {
    tb = [Number(p[0]), Number(p[0])];
    lr = [Number(p[1]), Number(p[1])];
  } else if (
    Array.isArray(p) &&
    p.length === 2 &&
    p.every((q) => Array.isArray(q) && q.length === 2)
  ) {
    tb = [Number(p[0][0]), Number(p[0][1])];
    lr = [Number(p[1][0]), Number(p[1][1])];
  } else {
    throw unsupportedLayer(args.className, args.layer.name, `padding ${JSON.stringify(p)}`);
  }
  const format = args.config['dataFormat'] === 'channelsFirst' ? 'channelsFirst' : 'channelsLast';
  const pads =
    format === 'channelsLast'
      ? [0, tb[0], lr[0], 0, 0, tb[1], lr[1], 0]
      : [0, 0, tb[0], lr[0], 0, 0, tb[1], lr[1]];
  return [padOp(b, args.inputs[0]!, pads, args.layer.name)];
}

export function padOp(b: GraphBuilder, x: string, pads: number[], name: string): string {
  return b.op('Pad', [x, b.constInt64(pads)], name, { mode: attr.string('constant') });
}
