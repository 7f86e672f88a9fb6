import { readFileSync } from 'node:fs';
import { FeatureExtractor, isEbmError, RemoteFeatureExtractor } from '@ebmjs/web-infer';
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type EbmServer } from '../src/index.js';
import { FIXTURES, maxAbsDiff, modelPath, png } from './helpers.js';

const reference = JSON.parse(readFileSync(`${FIXTURES}/reference.json`, 'utf8')) as {
  images: { file: string }[];
  models: Record<string, { inputs?: number[][] }>;
};
const images = reference.images.map((i) => png(i.file));
/** Each fixture model and inputs it takes: images, or (mlp) vectors as typed arrays. */
const CASES: [string, () => unknown[]][] = [
  ['conv-rgb-nchw', () => images],
  ['conv-gray-fixed4', () => images.slice(0, 6)],
  // Free spatial size: images of three sizes, each its own group.
  [
    'conv-free-size',
    () => [images[0], png('query/square-48x40.png'), png('query/triangle-20x20.png'), images[3]],
  ],
  ['mlp', () => reference.models['mlp']!.inputs!.map((v) => Float32Array.from(v))],
];

describe('RemoteFeatureExtractor against ebm serve', () => {
  const servers: EbmServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  for (const [model, inputs] of CASES) {
    it(`${model}: the same embeddings as in-process extract() (<= 1e-6)`, async () => {
      const server = await createServer({ model: modelPath(model), device: 'cpu', maxBatch: 8 });
      servers.push(server);
      const url = await server.listen({ port: 0 });
      const local = await FeatureExtractor.create(modelPath(model), { device: 'cpu' });
      const remote = await RemoteFeatureExtractor.create({ url, model, batchSize: 5 });
      expect(remote.device).toBe('remote');
      expect(remote.info.inputShape.slice(1)).toEqual(local.info.inputShape.slice(1));
      expect(remote.info.preprocessing).toEqual(local.info.preprocessing);
      expect(remote.info.layout).toBe(local.info.layout);
      const list = inputs() as Parameters<typeof local.extract>[0][];
      const want = (await local.extract(list as never)) as unknown as Float32Array[];
      const got = (await remote.extract(list as never)) as unknown as Float32Array[];
      expect(got.length).toBe(want.length);
      const worst = Math.max(...got.map((row, i) => maxAbsDiff(row, want[i]!)));
      expect(worst).toBeLessThanOrEqual(1e-6);
      // One input gives one row; energy works as in-process.
      const one = await remote.extract(list[0] as never);
      expect(maxAbsDiff(one, want[0]!)).toBeLessThanOrEqual(1e-6);
      expect(await remote.energy(list[0] as never, list[1] as never)).toBeCloseTo(
        await local.energy(list[0] as never, list[1] as never),
        5,
      );
      expect(remote.stats.requests).toBeGreaterThan(0);
      await local.dispose();
      await remote.dispose();
      await expect(remote.extract(list[0] as never)).rejects.toMatchObject({ code: 'DISPOSED' });
    });
  }

  it('errors: unknown model, unreachable server, bad input, server-side rejection keep their codes', async () => {
    const server = servers.find((s) => s.name === 'conv-rgb-nchw')!;
    const url = await server.app.listeningOrigin;
    await expect(RemoteFeatureExtractor.create({ url, model: 'resnet50' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('unknown model "resnet50"'),
    });
    await expect(
      RemoteFeatureExtractor.create({ url: 'http://127.0.0.1:9', model: 'x' }),
    ).rejects.toMatchObject({
      code: 'IO',
    });
    await expect(
      RemoteFeatureExtractor.create({ url, model: 'conv-rgb-nchw', bacthSize: 2 } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('Did you mean "batchSize"'),
    });
    const remote = await RemoteFeatureExtractor.create({ url, model: 'conv-rgb-nchw' });
    // Decoded client-side: not an image fails before any request.
    const notImage = await remote
      .extract(new TextEncoder().encode('no pixels here'))
      .catch((e: unknown) => e);
    expect(isEbmError(notImage, 'INVALID_ARGUMENT')).toBe(true);
    expect(remote.stats.requests).toBe(0);
    // A tensor goes as is; the server's SHAPE_MISMATCH comes back as one.
    const bad = await remote
      .extract({ data: new Float32Array(10), dims: [1, 10] })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringContaining('HTTP 400'),
    });
  });
});
