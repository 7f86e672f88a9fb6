import { datasetSize, type ImageDataset, imageSize } from '@ebmjs/train';
import { FeatureExtractor } from '@ebmjs/web-infer';

/**
 * Embeds a whole dataset from an exported encoder through @ebmjs/web-infer on onnxruntime-node's
 * CPU, as an app would: raw pixels in, the preprocessing the export metadata declares applied by
 * the extractor, batches of `batchSize`. Returns [n × dim] row-major, not normalized.
 */
export async function embedWithOnnx(
  modelPath: string,
  ds: ImageDataset,
  { batchSize = 512, threads }: { batchSize?: number; threads?: number } = {},
): Promise<{ embeddings: Float32Array; dim: number; seconds: number }> {
  const extractor = await FeatureExtractor.create(modelPath, {
    device: 'cpu',
    batchSize,
    normalize: false,
    ...(threads === undefined ? {} : { threads }),
  });
  try {
    const n = datasetSize(ds);
    const size = imageSize(ds);
    const started = performance.now();
    // Views, not copies: Uint8ClampedArray is how raw 8-bit pixels enter an extractor.
    const samples = Array.from(
      { length: n },
      (_, i) => new Uint8ClampedArray(ds.pixels.buffer, ds.pixels.byteOffset + i * size, size),
    );
    const rows = await extractor.extract(samples);
    const dim = rows[0]?.length ?? 0;
    const embeddings = new Float32Array(n * dim);
    rows.forEach((row, i) => embeddings.set(row, i * dim));
    return { embeddings, dim, seconds: (performance.now() - started) / 1000 };
  } finally {
    await extractor.dispose();
  }
}
