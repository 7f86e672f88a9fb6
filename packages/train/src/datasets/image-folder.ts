import { EbmError } from '@ebmjs/core';
import type { ImageDataset } from './dataset.js';

type Sharp = typeof import('sharp').default;

/** sharp is an optional peer: loaded on the first imageFolder call, with an install hint. */
async function loadSharp(): Promise<Sharp> {
  try {
    return (await import('sharp')).default;
  } catch (error) {
    throw new EbmError(
      'UNSUPPORTED',
      `imageFolder decodes images with the optional peer dependency "sharp" (npm install sharp), which did not load: ${(error as Error).message}`,
      { dependency: 'sharp' },
      { cause: error },
    );
  }
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff']);

export interface ImageFolderOptions {
  /** Every image is resized (cover crop, centred) to size × size. Default 32. */
  size?: number;
  /** 1 (grayscale) or 3 (RGB). Default 3. */
  channels?: 1 | 3;
  /** What to do with a file that does not decode: 'throw' (default) or 'skip'. */
  onError?: 'throw' | 'skip';
}

/**
 * A labelled dataset from a directory with one subfolder per class (`dir/cat/*.png`,
 * `dir/dog/*.jpg`), classes sorted by name. Images are decoded and resized with sharp (libvips).
 */
export async function imageFolder(
  dir: string,
  options: ImageFolderOptions = {},
): Promise<ImageDataset> {
  const { size = 32, channels = 3, onError = 'throw' } = options;
  if (!(Number.isInteger(size) && size > 0))
    throw new EbmError(
      'INVALID_ARGUMENT',
      `imageFolder: size must be a positive integer, received ${size}.`,
    );
  if (channels !== 1 && channels !== 3)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `imageFolder: channels must be 1 or 3, received ${String(channels)}.`,
    );
  const fs = await import('node:fs/promises');
  const { join, extname, basename } = await import('node:path');
  const sharp = await loadSharp();

  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw new EbmError(
      'IO',
      `imageFolder: cannot read directory ${dir}: ${(error as Error).message}`,
      { file: dir },
    );
  });
  const classNames = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classNames.length === 0) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `imageFolder: ${dir} has no class subfolders (expected dir/<class>/<image>).`,
      { file: dir },
    );
  }
  const perImage = size * size * channels;
  const chunks: Uint8Array[] = [];
  const labels: number[] = [];
  for (const [label, className] of classNames.entries()) {
    const files = (await fs.readdir(join(dir, className)))
      .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort();
    for (const file of files) {
      const path = join(dir, className, file);
      try {
        let pipeline = sharp(path).resize(size, size, { fit: 'cover' }).removeAlpha();
        pipeline = channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
        const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
        if (info.channels !== channels || data.length !== perImage) {
          throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}`);
        }
        chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        labels.push(label);
      } catch (error) {
        if (onError === 'skip') continue;
        throw new EbmError(
          'CORRUPT_FILE',
          `imageFolder: ${path} is not a readable image (${(error as Error).message}).`,
          { file: path },
        );
      }
    }
  }
  if (labels.length === 0)
    throw new EbmError('INVALID_ARGUMENT', `imageFolder: no images found under ${dir}.`, {
      file: dir,
    });
  const pixels = new Uint8Array(labels.length * perImage);
  chunks.forEach((chunk, i) => pixels.set(chunk, i * perImage));
  return {
    name: basename(dir),
    imageShape: [size, size, channels],
    pixels,
    labels: Int32Array.from(labels),
    classNames,
  };
}
