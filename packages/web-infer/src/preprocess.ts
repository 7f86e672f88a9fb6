import { describe, EbmError } from './errors.js';
import type { ImageGeometry, InputLayout, ModelInfo } from './metadata.js';

/** Decoded pixels, row-major, interleaved channels: ImageData and sharp's raw output fit this. */
export interface PixelData {
  data: ArrayLike<number>;
  width: number;
  height: number;
  /** Channels per pixel; default data.length / (width · height). ImageData is RGBA (4). */
  channels?: number;
}

/** One model input without its batch axis: values in the model's layout and their dims. */
export interface Sample {
  data: Float32Array;
  dims: number[];
}

/** ITU-R BT.601 luma weights, the ones tf.image.rgbToGrayscale uses. */
const LUMA = [0.2989, 0.587, 0.114] as const;

export function isPixelData(value: unknown): value is PixelData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<PixelData>;
  return (
    typeof v.width === 'number' &&
    typeof v.height === 'number' &&
    typeof v.data === 'object' &&
    v.data !== null &&
    typeof (v.data as ArrayLike<number>).length === 'number'
  );
}

/**
 * Turns decoded pixels into one model input: channel conversion (grayscale by luma, gray to RGB
 * by replication), bilinear resize with half-pixel centres (tf.image.resizeBilinear with
 * halfPixelCenters) when the size differs, then (x · scale − mean) / std per channel, written in
 * the model's layout. `where` names the input in error messages.
 */
export function pixelsToSample(pixels: PixelData, info: ModelInfo, where: string): Sample {
  const geometry = info.image;
  if (geometry === null) {
    throw new EbmError(
      'UNSUPPORTED',
      `${where}: the model input "${info.inputName}" [${info.inputShape.map((d) => d ?? '?').join(', ')}] (layout ${info.layout}) does not take images; pass a typed array or a tensor.${info.layout === 'other' && info.inputShape.length === 4 ? ' If it is an image model without ebm.js metadata, pass the "layout" option.' : ''}`,
      { input: info.inputName, layout: info.layout },
    );
  }
  const { width, height } = pixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: image width and height must be positive integers, received ${width}×${height}.`,
      { width, height },
    );
  }
  const inChannels = pixels.channels ?? pixels.data.length / (width * height);
  if (
    !Number.isInteger(inChannels) ||
    inChannels < 1 ||
    inChannels > 4 ||
    pixels.data.length !== width * height * inChannels
  ) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: a ${width}×${height} image needs width · height · channels values with 1 to 4 channels, received ${pixels.data.length} values${pixels.channels === undefined ? '' : ` for ${pixels.channels} channels`}.`,
      { width, height, channels: pixels.channels, received: pixels.data.length },
    );
  }
  const target = targetSize(geometry, width, height);
  const converted = convertChannels(pixels.data, width * height, inChannels, geometry.channels);
  const resized =
    target.height === height && target.width === width
      ? converted
      : resizeBilinear(converted, height, width, geometry.channels, target.height, target.width);
  return layoutImage(resized, target.height, target.width, geometry.channels, info);
}

function targetSize(g: ImageGeometry, width: number, height: number) {
  return { height: g.height ?? height, width: g.width ?? width };
}

/** Interleaved pixels with `from` channels -> Float32Array with `to` channels. */
export function convertChannels(
  data: ArrayLike<number>,
  count: number,
  from: number,
  to: number,
): Float32Array {
  const out = new Float32Array(count * to);
  for (let p = 0; p < count; p++) {
    const s = p * from;
    const d = p * to;
    if (to === 1) {
      out[d] =
        from >= 3 ? LUMA[0] * data[s]! + LUMA[1] * data[s + 1]! + LUMA[2] * data[s + 2]! : data[s]!;
    } else {
      const gray = from < 3;
      out[d] = data[s]!;
      out[d + 1] = gray ? data[s]! : data[s + 1]!;
      out[d + 2] = gray ? data[s]! : data[s + 2]!;
      // An RGBA model fed an image without alpha sees it opaque.
      if (to === 4) out[d + 3] = from === 4 ? data[s + 3]! : from === 2 ? data[s + 1]! : 255;
    }
  }
  return out;
}

/**
 * Bilinear resize of interleaved HWC data with half-pixel centres, the arithmetic of tfjs's
 * ResizeBilinear kernel (alignCorners false, halfPixelCenters true).
 */
export function resizeBilinear(
  src: Float32Array,
  h: number,
  w: number,
  c: number,
  outH: number,
  outW: number,
): Float32Array {
  const out = new Float32Array(outH * outW * c);
  const ry = h / outH;
  const rx = w / outW;
  for (let y = 0; y < outH; y++) {
    const fy = ry * (y + 0.5) - 0.5;
    const y0 = Math.max(0, Math.floor(fy));
    const y1 = Math.min(h - 1, Math.ceil(fy));
    const dy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = rx * (x + 0.5) - 0.5;
      const x0 = Math.max(0, Math.floor(fx));
      const x1 = Math.min(w - 1, Math.ceil(fx));
      const dx = fx - x0;
      const o = (y * outW + x) * c;
      for (let k = 0; k < c; k++) {
        const tl = src[(y0 * w + x0) * c + k]!;
        const tr = src[(y0 * w + x1) * c + k]!;
        const bl = src[(y1 * w + x0) * c + k]!;
        const br = src[(y1 * w + x1) * c + k]!;
        const top = tl + (tr - tl) * dx;
        const bottom = bl + (br - bl) * dx;
        out[o + k] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

/** HWC values -> normalized sample in the model's layout. */
function layoutImage(hwc: Float32Array, h: number, w: number, c: number, info: ModelInfo): Sample {
  const { scale, mean, std } = info.preprocessing;
  const out = new Float32Array(hwc.length);
  const nchw = info.layout === 'NCHW';
  for (let k = 0; k < c; k++) {
    const m = mean.length === 1 ? mean[0]! : mean[k]!;
    const s = std.length === 1 ? std[0]! : std[k]!;
    for (let p = 0; p < h * w; p++) {
      const v = (hwc[p * c + k]! * scale - m) / s;
      out[nchw ? k * h * w + p : p * c + k] = v;
    }
  }
  return { data: out, dims: nchw ? [c, h, w] : [h, w, c] };
}

/** The per-sample dims the model fixes, or null when some are dynamic. */
export function fixedSampleDims(info: ModelInfo): number[] | null {
  const dims = info.inputShape.slice(1);
  return dims.every((d) => d !== null) ? (dims as number[]) : null;
}

function channelAxis(layout: InputLayout, rank: number): number | null {
  if (layout === 'NHWC') return rank - 1;
  if (layout === 'NCHW') return 0;
  if (layout === 'NC') return 0;
  return null;
}

/**
 * Applies the model's preprocessing to raw values already in its layout (one sample). Values
 * come in on the same scale as pixels would (for example 0–255 when scale is 1/255).
 */
export function normalizeRaw(values: ArrayLike<number>, dims: number[], info: ModelInfo): Sample {
  const { scale, mean, std } = info.preprocessing;
  const out = new Float32Array(values.length);
  if (mean.length === 1 && std.length === 1) {
    const m = mean[0]!;
    const s = std[0]!;
    for (let i = 0; i < values.length; i++) out[i] = (values[i]! * scale - m) / s;
    return { data: out, dims };
  }
  const axis = channelAxis(info.layout, dims.length)!;
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < values.length; i++) {
    const k = Math.floor(i / inner) % channels;
    out[i] = (values[i]! * scale - mean[k]!) / std[k]!;
  }
  return { data: out, dims };
}

/** A raw typed-array input for one sample: checks its length against the model's input size. */
export function rawToSample(values: ArrayLike<number>, info: ModelInfo, where: string): Sample {
  const dims = fixedSampleDims(info);
  if (dims === null) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: the model input "${info.inputName}" has dynamic dimensions [${info.inputShape.map((d) => d ?? '?').join(', ')}]; pass a tensor ({ data, dims } or an ORT Tensor) so its shape is known, received ${describe(values)}.`,
      { input: info.inputName, shape: info.inputShape },
    );
  }
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: expected ${size} values (one sample of shape [${dims.join(', ')}], layout ${info.layout}), received ${values.length}.`,
      { expected: size, expectedDims: dims, received: values.length },
    );
  }
  return normalizeRaw(values, dims, info);
}
