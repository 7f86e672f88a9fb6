import type { LayersModel } from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '#node-io';
import { exportError } from './errors.js';
import { exportOnnx } from './export-onnx.js';
import type { ExportOnnxOptions } from './options.js';

/**
 * Exports `model` and writes the ONNX file at `path` atomically (Node only): the bytes go to a
 * temporary file next to it, which is flushed and then renamed over `path` (and the directory
 * flushed). A failed or
 * interrupted write leaves the previous file (or none) in place, never a truncated model.
 * Returns the number of bytes written.
 */
export async function saveOnnx(
  model: LayersModel,
  path: string,
  options?: ExportOnnxOptions,
): Promise<number> {
  if (typeof path !== 'string' || path.length === 0) {
    throw exportError(
      'INVALID_ARGUMENT',
      `saveOnnx: path must be a non-empty string, received ${typeof path === 'string' ? '""' : typeof path}.`,
      {
        option: 'path',
      },
    );
  }
  const bytes = await exportOnnx(model, options);
  await writeFileAtomic(path, bytes, { caller: 'saveOnnx', createDirectory: false });
  return bytes.byteLength;
}
