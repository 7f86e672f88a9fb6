import type { LayersModel } from '@tensorflow/tfjs-layers';
import { exportError } from './errors.js';
import { exportOnnx } from './export-onnx.js';
import type { ExportOnnxOptions } from './options.js';

/**
 * Exports `model` and writes the ONNX file at `path` atomically (Node only): the bytes go to a
 * temporary file next to it, which is flushed and then renamed over `path`. A failed or
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
  await writeFileAtomic(path, bytes);
  return bytes.byteLength;
}

/** Temp file + fsync + rename; the temp file is removed on failure. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  // Imported lazily so that bundling exportOnnx for a browser never touches node:fs.
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const temp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw exportError(
      'IO',
      `saveOnnx: could not write the ONNX model to "${path}": ${(error as Error).message}`,
      { path },
      error,
    );
  }
}
