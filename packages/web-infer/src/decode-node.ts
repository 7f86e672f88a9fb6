import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, EbmError, messageOf } from './errors.js';
import { fetchBytes } from './model-source.js';
import type { PixelData } from './preprocess.js';

type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp> | null = null;

/** sharp is an optional peer: loaded on the first image, with an install hint when missing. */
function loadSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (error: unknown) => {
      sharpModule = null;
      throw new EbmError(
        'UNSUPPORTED',
        `Decoding images in Node needs the optional peer dependency "sharp" (npm install sharp): ${messageOf(error)}`,
        { dependency: 'sharp' },
        { cause: error },
      );
    },
  );
  return sharpModule;
}

const URL_SCHEME = /^(https?|file):\/\//i;

/** Reads encoded image bytes from a path, file:/http(s): URL, Blob or buffer. */
async function encodedBytes(
  input: unknown,
  where: string,
): Promise<{ bytes: Uint8Array; name: string } | undefined> {
  if (typeof input === 'string' || input instanceof URL) {
    const text = String(input);
    if (input instanceof URL || URL_SCHEME.test(text)) {
      const url = new URL(text);
      if (url.protocol !== 'file:') return { bytes: await fetchBytes(url.href), name: url.href };
      return { bytes: await readImageFile(fileURLToPath(url), where), name: fileURLToPath(url) };
    }
    return { bytes: await readImageFile(text, where), name: text };
  }
  if (input instanceof Uint8Array) return { bytes: input, name: 'bytes' };
  if (input instanceof ArrayBuffer) return { bytes: new Uint8Array(input), name: 'bytes' };
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    return {
      bytes: new Uint8Array(await input.arrayBuffer()),
      name: (input as { name?: string }).name ?? 'Blob',
    };
  }
  return undefined;
}

async function readImageFile(path: string, where: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EbmError(
      'IO',
      `${where}: cannot read image file "${path}"${code === 'ENOENT' ? ' (no such file)' : code === 'EISDIR' ? ' (it is a directory)' : ''}: ${messageOf(error)}`,
      { path, errno: code },
      { cause: error },
    );
  }
}

/**
 * Decodes an image input with sharp (PNG, JPEG, WebP, GIF, AVIF, TIFF, SVG), honouring EXIF
 * orientation like browsers do; undefined when `input` is not an image source.
 */
export function decodeNodeImage(input: unknown, where: string): Promise<PixelData> | undefined {
  const isSource =
    typeof input === 'string' ||
    input instanceof URL ||
    input instanceof Uint8Array ||
    input instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && input instanceof Blob);
  if (!isSource) return undefined;
  return (async () => {
    const source = (await encodedBytes(input, where))!;
    const sharp = await loadSharp();
    try {
      const { data, info } = await sharp(source.bytes, { failOn: 'error' })
        .rotate()
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels };
    } catch (error) {
      const size = source.bytes.length;
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: ${source.name === 'bytes' ? `${describe(input)}` : `"${source.name}"`} (${size} bytes) is not an image sharp can decode (PNG, JPEG, WebP, GIF, AVIF, TIFF, SVG): ${messageOf(error)}`,
        { source: source.name, bytes: size },
        { cause: error },
      );
    }
  })();
}
