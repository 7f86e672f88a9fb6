import { describe, EbmError, messageOf } from './errors.js';
import { fetchBytes } from './model-source.js';
import type { PixelData } from './preprocess.js';

type Drawable = CanvasImageSource & { width?: unknown; height?: unknown };

function is<T>(ctor: string, value: unknown): value is T {
  const c = (globalThis as Record<string, unknown>)[ctor];
  return typeof c === 'function' && value instanceof (c as new () => unknown);
}

/** Draws `source` at its own size and reads the RGBA pixels back (un-premultiplied sRGB). */
function readPixels(
  source: CanvasImageSource,
  width: number,
  height: number,
  where: string,
): PixelData {
  if (width < 1 || height < 1) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: the image has no pixels (${width}×${height}); is it loaded?`,
      { width, height },
    );
  }
  const canvas: OffscreenCanvas | HTMLCanvasElement =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as
    | CanvasRenderingContext2D
    | OffscreenCanvasRenderingContext2D
    | null;
  if (ctx === null) {
    throw new EbmError('UNSUPPORTED', `${where}: this browser gives no 2D canvas context.`);
  }
  ctx.drawImage(source, 0, 0);
  const image = ctx.getImageData(0, 0, width, height);
  return { data: image.data, width, height, channels: 4 };
}

async function decodeBlob(blob: Blob, where: string, name: string): Promise<PixelData> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none' });
  } catch (error) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: ${name} (${blob.size} bytes${blob.type ? `, ${blob.type}` : ''}) is not an image this browser can decode: ${messageOf(error)}`,
      { source: name, bytes: blob.size, type: blob.type },
      { cause: error },
    );
  }
  try {
    return readPixels(bitmap, bitmap.width, bitmap.height, where);
  } finally {
    bitmap.close();
  }
}

/**
 * Decodes a browser image input: ImageBitmap, HTMLImageElement, canvas, video frame, Blob/File,
 * encoded bytes or a URL. Undefined when `input` is none of those.
 */
export function decodeBrowserImage(input: unknown, where: string): Promise<PixelData> | undefined {
  if (typeof input === 'string' || input instanceof URL) {
    const url = new URL(String(input), globalThis.location?.href);
    return fetchBytes(url.href).then((bytes) =>
      decodeBlob(new Blob([bytes as BlobPart]), where, url.href),
    );
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    return decodeBlob(new Blob([input as BlobPart]), where, describe(input));
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const name = (input as { name?: string }).name;
    return decodeBlob(input, where, name === undefined ? 'the Blob' : `"${name}"`);
  }
  if (is<HTMLImageElement>('HTMLImageElement', input)) {
    return (async () => {
      try {
        if (!input.complete || input.naturalWidth === 0) await input.decode();
      } catch (error) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `${where}: the <img> (${input.currentSrc || input.src || 'no src'}) could not be decoded: ${messageOf(error)}`,
          { src: input.src },
          { cause: error },
        );
      }
      return readPixels(input, input.naturalWidth, input.naturalHeight, where);
    })();
  }
  if (is<HTMLVideoElement>('HTMLVideoElement', input)) {
    return Promise.resolve().then(() =>
      readPixels(input, input.videoWidth, input.videoHeight, where),
    );
  }
  if (is<VideoFrame>('VideoFrame', input)) {
    return Promise.resolve().then(() =>
      readPixels(input, input.displayWidth, input.displayHeight, where),
    );
  }
  if (
    is<ImageBitmap>('ImageBitmap', input) ||
    is<HTMLCanvasElement>('HTMLCanvasElement', input) ||
    is<OffscreenCanvas>('OffscreenCanvas', input)
  ) {
    const d = input as Drawable & { width: number; height: number };
    return Promise.resolve().then(() => readPixels(d, d.width, d.height, where));
  }
  return undefined;
}
