import { describe, EbmError } from './errors.js';
import type { ModelInfo } from './metadata.js';
import {
  isPixelData,
  type PixelData,
  pixelsToSample,
  rawToSample,
  type Sample,
} from './preprocess.js';

/** Decodes a platform image input; undefined when `input` is not one it knows. */
export type ImageDecoder = (input: unknown, where: string) => Promise<PixelData> | undefined;

/** Typed arrays of raw values (one sample in the model's layout), not encoded bytes. */
export function isRawValues(value: unknown): value is ArrayLike<number> {
  return (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof Uint8Array) &&
    !(typeof BigInt64Array !== 'undefined' && value instanceof BigInt64Array) &&
    !(typeof BigUint64Array !== 'undefined' && value instanceof BigUint64Array)
  );
}

function inputKinds(platform: 'node' | 'browser'): string {
  const images =
    platform === 'node'
      ? 'an image file path, URL or encoded bytes (Buffer/Uint8Array/Blob)'
      : 'an ImageData, ImageBitmap, HTMLImageElement, canvas, Blob, encoded bytes or URL';
  return `${images}, decoded pixels { data, width, height }, a typed array of raw values or a tensor { data, dims }`;
}

/**
 * One input made model-ready (decoded, resized, preprocessed, in the model's layout): what an
 * in-process extractor feeds its session and what a remote one sends to a server. Shared so
 * both give the same values.
 */
export async function prepareSample(
  input: unknown,
  info: ModelInfo,
  decode: ImageDecoder,
  platform: 'node' | 'browser',
  where: string,
): Promise<Sample> {
  if (isRawValues(input)) return rawToSample(input, info, where);
  if (isPixelData(input) && !(input instanceof Uint8Array)) {
    return pixelsToSample(input, info, where);
  }
  const decoding = decode(input, where);
  if (decoding === undefined) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: expected ${inputKinds(platform)}, received ${describe(input)}.`,
      { received: describe(input) },
    );
  }
  return pixelsToSample(await decoding, info, where);
}
