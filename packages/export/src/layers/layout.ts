import { unsupportedLayer } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import type { LayerConversion } from './types.js';

export const NHWC_TO_NCHW = [0, 3, 1, 2] as const;
export const NCHW_TO_NHWC = [0, 2, 3, 1] as const;

export type DataFormat = 'channelsLast' | 'channelsFirst';

export function dataFormatOf(args: LayerConversion): DataFormat {
  const f = args.config['dataFormat'] ?? 'channelsLast';
  if (f !== 'channelsLast' && f !== 'channelsFirst') {
    throw unsupportedLayer(args.className, args.layer.name, `dataFormat ${String(f)}`);
  }
  return f;
}

/** Brings a rank-4 value to NCHW for ONNX's layout-bound ops. */
export function toNCHW(b: GraphBuilder, x: string, format: DataFormat, name: string): string {
  return format === 'channelsLast' ? b.transpose(x, NHWC_TO_NCHW, `${name}/to_nchw`) : x;
}

/** Returns an NCHW result to the layer's own data format. */
export function fromNCHW(b: GraphBuilder, y: string, format: DataFormat, name: string): string {
  return format === 'channelsLast' ? b.transpose(y, NCHW_TO_NHWC, `${name}/to_nhwc`) : y;
}

/** [height, width] of a rank-4 tfjs shape in the given data format. */
export function spatialDims(
  shape: (number | null)[],
  format: DataFormat,
): [number | null, number | null] {
  return format === 'channelsLast'
    ? [shape[1] ?? null, shape[2] ?? null]
    : [shape[2] ?? null, shape[3] ?? null];
}

/** A number or a pair of numbers (tfjs lets configs use either) as a pair. */
export function pair(v: unknown, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return [v[0], v[0]];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  return [Number.NaN, Number.NaN];
}
