import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../src/index.node.js';
import { fixture, maxAbsDiff, modelPath } from './helpers.js';

describe('extractor.prepare', () => {
  it('gives the model-ready tensor extract() feeds: extract(prepare(x)) equals extract(x)', async () => {
    const extractor = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), { device: 'cpu' });
    const bytes = readFileSync(fixture('query/square-48x40.png')); // resized to 32×32
    const tensor = await extractor.prepare(bytes);
    expect(tensor.dims).toEqual([1, 3, 32, 32]);
    expect(tensor.data).toBeInstanceOf(Float32Array);
    const [fromTensor] = await extractor.extract(tensor);
    expect(maxAbsDiff(fromTensor!, await extractor.extract(bytes))).toBe(0);
    await expect(extractor.prepare([bytes] as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(extractor.prepare(new Float32Array(5), 'images[3]')).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringMatching(/^images\[3\]: expected 3072 values/),
    });
    await extractor.dispose();
  });
});
