import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../src/index.node.js';
import { fixture, l2, maxAbsDiff, modelPath, reference, worstDiff } from './helpers.js';

const files = reference.images.map((i) => i.file);

describe('200 concurrent extract calls all return correct results', () => {
  for (const device of ['cpu', 'wasm'] as const) {
    it(`on ${device}: 200 single-image calls in flight at once, each matches its reference`, async () => {
      const fx = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), {
        device,
        threads: 1,
        batchSize: 16,
      });
      try {
        const order = Array.from({ length: 200 }, (_, i) => files[(i * 7) % files.length]!);
        const results = await Promise.all(order.map((f) => fx.extract(fixture(f))));
        let worst = 0;
        results.forEach((e, i) => {
          const d = maxAbsDiff(e, l2(reference.embeddings['conv-rgb-nchw']![order[i]!]!));
          worst = Math.max(worst, d);
        });
        expect(worst).toBeLessThanOrEqual(1e-4);
        const { runs, samples } = fx.stats;
        expect(samples).toBe(200);
        expect(runs).toBeGreaterThanOrEqual(Math.ceil(200 / 16));
        // Calls that arrive together share batches: 200 raw inputs in one tick, 13 runs of ≤ 16.
        const raw = Array.from({ length: 200 }, (_, i) =>
          Float32Array.from({ length: 3072 }, (_, j) => (i * 31 + j) % 256),
        );
        const alone = await Promise.all(
          raw.slice(0, 3).map((r) => fx.extract([r]).then((x) => x[0]!)),
        );
        const before = fx.stats.runs;
        const together = await Promise.all(raw.map((r) => fx.extract(r)));
        expect(fx.stats.runs - before).toBe(13);
        expect(worstDiff(together.slice(0, 3), alone)).toBeLessThanOrEqual(1e-5);
      } finally {
        await fx.dispose();
      }
    });
  }

  it('concurrent calls of mixed kinds (lists, raw vectors, bad inputs) each get their own answer', async () => {
    const fx = await FeatureExtractor.create(modelPath('mlp'), {
      device: 'cpu',
      threads: 1,
      batchSize: 5,
    });
    const inputs = reference.models['mlp']!.inputs!.map((v) => Float32Array.from(v));
    const refs = inputs.map((_, i) => l2(reference.embeddings['mlp']![String(i)]!));
    const calls = Array.from({ length: 200 }, (_, i) => {
      if (i % 10 === 3)
        return fx.extract(new Float32Array(7)).then(
          () => 'no error',
          (e) => e.code,
        );
      if (i % 2 === 0)
        return fx
          .extract(inputs[i % inputs.length]!)
          .then((e) => maxAbsDiff(e, refs[i % inputs.length]!));
      const idx = [i % 6, (i + 1) % 6, (i + 2) % 6];
      return fx.extract(idx.map((k) => inputs[k]!)).then((rows) =>
        worstDiff(
          rows,
          idx.map((k) => refs[k]!),
        ),
      );
    });
    const out = await Promise.all(calls);
    out.forEach((r, i) => {
      if (i % 10 === 3) expect(r).toBe('SHAPE_MISMATCH');
      else expect(r as number).toBeLessThanOrEqual(1e-5);
    });
    await fx.dispose();
  });
});

describe('large inputs are batched automatically', () => {
  let fx: FeatureExtractor;
  beforeAll(async () => {
    fx = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), {
      device: 'cpu',
      threads: 1,
      batchSize: 8,
    });
  });
  afterAll(() => fx.dispose());

  it('100 images with batchSize 8 run as 13 batches, in order', async () => {
    const list = Array.from({ length: 100 }, (_, i) => files[i % files.length]!);
    const before = fx.stats.runs;
    const rows = await fx.extract(list.map(fixture));
    expect(rows).toHaveLength(100);
    expect(fx.stats.runs - before).toBe(13);
    expect(
      worstDiff(
        rows,
        list.map((f) => l2(reference.embeddings['conv-rgb-nchw']![f]!)),
      ),
    ).toBeLessThanOrEqual(1e-4);
  });

  it('a fixed-batch model (batch 4) pads short batches and splits long ones', async () => {
    const fixed = await FeatureExtractor.create(modelPath('conv-gray-fixed4'), {
      device: 'cpu',
      threads: 1,
    });
    expect(fixed.batchSize).toBe(4);
    expect(fixed.info.fixedBatch).toBe(4);
    for (const n of [1, 3, 4, 7, 9]) {
      const list = files.slice(0, n);
      const rows = await fixed.extract(list.map(fixture));
      expect(
        worstDiff(
          rows,
          list.map((f) => l2(reference.embeddings['conv-gray-fixed4']![f]!)),
        ),
      ).toBeLessThanOrEqual(1e-4);
    }
    await fixed.dispose();
  });

  it('a free-size model embeds images of different sizes in one call', async () => {
    const free = await FeatureExtractor.create(modelPath('conv-free-size'), {
      device: 'cpu',
      threads: 1,
    });
    expect(free.info.image).toEqual({ height: null, width: null, channels: 3 });
    const list = [
      'query/square-48x40.png',
      'gallery/cross-0.png',
      'query/triangle-20x20.png',
      'gallery/dots-1.png',
    ];
    const rows = await free.extract(list.map(fixture));
    expect(
      worstDiff(
        rows,
        list.map((f) => l2(reference.embeddings['conv-free-size']![f]!)),
      ),
    ).toBeLessThanOrEqual(1e-4);
    await free.dispose();
  });
});
