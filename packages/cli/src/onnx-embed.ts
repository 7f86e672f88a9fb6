import { datasetSize, type ImageDataset, imageSize } from '@ebmjs/train';
import * as ort from 'onnxruntime-node';

/**
 * Embeds a whole dataset with onnxruntime-node from an exported encoder (input `input`, NHWC,
 * pixels scaled to [0, 1] as the export metadata says). Returns [n × dim] row-major.
 */
export async function embedWithOnnx(
  modelPath: string,
  ds: ImageDataset,
  { batchSize = 512, threads }: { batchSize?: number; threads?: number } = {},
): Promise<{ embeddings: Float32Array; dim: number; seconds: number }> {
  const session = await ort.InferenceSession.create(
    modelPath,
    threads ? { intraOpNumThreads: threads } : {},
  );
  try {
    const n = datasetSize(ds);
    const size = imageSize(ds);
    const started = performance.now();
    let out: Float32Array | undefined;
    let dim = 0;
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const pixels = new Float32Array(b * size);
      const src = ds.pixels.subarray(start * size, (start + b) * size);
      for (let i = 0; i < pixels.length; i++) pixels[i] = src[i]! / 255;
      const input = new ort.Tensor('float32', pixels, [b, ...ds.imageShape]);
      const result = await session.run({ [session.inputNames[0]!]: input });
      const y = result[session.outputNames[0]!]!;
      dim = Number(y.dims[1]);
      out ??= new Float32Array(n * dim);
      out.set(y.data as Float32Array, start * dim);
      input.dispose?.();
      y.dispose?.();
    }
    return {
      embeddings: out ?? new Float32Array(0),
      dim,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await session.release();
  }
}
