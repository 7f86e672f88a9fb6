import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@ebmjs/core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { spreadOverClasses } from '../src/report/collect.js';
import { trainingCurves } from '../src/report/curves.js';
import { renderReport, writeReport } from '../src/report/html.js';
import { cosineTopK } from '../src/report/neighbours.js';
import { pca } from '../src/report/pca.js';
import { encodePng } from '../src/report/png.js';
import { umapProject } from '../src/report/umap.js';

const gaussian = (rng: Rng) =>
  Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());

describe('report.html', () => {
  it('draws the monitors at the step they measured, and `step` is not drawn as an accuracy', () => {
    const steps = [1, 2, 3, 4, 5, 6].map((step) => ({
      type: 'step' as const,
      step,
      epoch: step <= 3 ? 0 : 1,
      loss: 1 / step,
      learningRate: 1e-3,
      imagesPerSecond: 10,
    }));
    const record = (epoch: number, knn: number, step: number) => ({
      epoch,
      loss: 0.5,
      learningRate: 1e-3,
      imagesPerSecond: 10,
      seconds: 1,
      metrics: { knn, step },
    });
    const svg = trainingCurves([record(0, 0.5, 3), record(1, 0.75, 6)], steps);
    const monitors = svg.slice(svg.indexOf('id="monitor-curve"'));
    expect(monitors).toContain('data-name="knn"');
    expect(monitors).not.toContain('data-name="step"');
    // Two points of one series: at x = 3 and x = 6, the ends of the step axis [1, 6].
    expect(monitors).toMatch(/data-points="2"/);
  });

  it('pca recovers known directions and variances (up to sign)', () => {
    // Rows t·u + s·w + c with u ⟂ w unit vectors in R³: the components are ±u, ±w, the
    // variances those of t and s (n − 1 denominator), the projections t − mean t, s − mean s.
    const u = [2 / 3, 2 / 3, 1 / 3];
    const w = [1 / Math.SQRT2, -1 / Math.SQRT2, 0];
    const t = [-3, -1, 0, 2, 5, -4, 1, 0];
    const s = [0.5, -0.2, 0.1, -0.4, 0.3, -0.1, 0.2, -0.4];
    const n = t.length;
    const data = new Float32Array(n * 3);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < 3; j++) data[i * 3 + j] = t[i]! * u[j]! + s[i]! * w[j]! + [1, -2, 3][j]!;
    const variance = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
    };
    const { projected, variance: found } = pca(data, n, 3, 2);
    expect(found[0]).toBeCloseTo(variance(t), 4);
    expect(found[1]).toBeCloseTo(variance(s), 4);
    const centre = (xs: number[]) => xs.map((x) => x - xs.reduce((a, b) => a + b, 0) / n);
    for (const [c, xs] of [centre(t), centre(s)].entries()) {
      const sign = Math.sign(projected[c]! * xs[0]!);
      for (let i = 0; i < n; i++) expect(sign * projected[i * 2 + c]!).toBeCloseTo(xs[i]!, 4);
    }
  });

  it('renders an escaped, self-contained page: curves per step, scatters, gallery, views, settings', async () => {
    const steps = Array.from({ length: 7 }, (_, i) => ({
      type: 'step' as const,
      step: i + 1,
      epoch: i < 4 ? 0 : 1,
      loss: 5 - i / 2,
      learningRate: 0.1 * (1 - i / 7),
      imagesPerSecond: 100,
    }));
    const input = {
      title: 'SimCLR <demo> & "run"',
      history: [0, 1].map((epoch) => ({
        epoch,
        loss: 5 - epoch,
        learningRate: 0.1,
        imagesPerSecond: 100,
        seconds: 1,
        metrics: { knn: 0.5 + epoch / 4, linearProbe: 0.4 + epoch / 4 },
      })),
      steps,
      summary: { 'kNN accuracy': 0.931, backend: 'wasm' },
      settings: { optimizer: { name: 'adam', learningRate: 0.001 }, imageShape: [28, 28, 1] },
      projections: {
        pca: Float32Array.from([0, 0, 1, 1, 2, 0]),
        umap: Float32Array.from([1, 0, 0, 1, 2, 2]),
        labels: Int32Array.from([0, 1, 1]),
        classNames: ['zero', 'one'],
        what: '3 test embeddings',
      },
      gallery: [
        {
          query: { src: 'data:image/png;base64,AA', label: 'one' },
          neighbours: [{ src: 'data:image/png;base64,AB', label: 'one', similarity: 0.98765 }],
        },
      ],
      views: [
        {
          label: 'zero',
          original: 'data:image/png;base64,A1',
          views: ['data:image/png;base64,A2', 'data:image/png;base64,A3'] as [string, string],
        },
      ],
    };
    const html = renderReport(input);
    expect(html).toContain('<title>SimCLR &lt;demo&gt; &amp; &quot;run&quot;</title>');
    expect(html).not.toContain('<demo>');
    expect(html).toContain('<td>93.10%</td>');
    expect(html).toContain('<td>wasm</td>');
    // One vertex per step record in the loss polyline, the count on the <svg>.
    const loss = html.match(/<svg[^>]*id="loss-curve"[^>]*data-points="(\d+)"[\s\S]*?<\/svg>/);
    expect(loss?.[1]).toBe('7');
    const polyline = loss![0].match(/<polyline[^>]*points="([^"]+)"/)![1]!;
    expect(polyline.split(' ')).toHaveLength(7);
    expect(html).toMatch(/id="lr-curve"/);
    expect(html).toMatch(/id="monitor-curve"[\s\S]*?knn[\s\S]*?linearProbe/);
    expect(html.match(/r="2.2"/g)).toHaveLength(6); // 3 points × (UMAP + PCA)
    expect(html).toContain('UMAP of 3 test embeddings');
    expect(html).toContain('PCA of 3 test embeddings');
    expect(html).toContain('one · 0.988');
    expect(html.match(/class="thumb"/g)).toHaveLength(2 + 3);
    expect(html).toContain('<th>optimizer.name</th><td>adam</td>');
    expect(html).toContain('<th>imageShape</th><td>[28,28,1]</td>');
    expect(html).not.toMatch(/<script|<link|src="http/);
    const bare = renderReport({ title: 'x' });
    for (const id of ['training', 'embeddings', 'gallery', 'views', 'settings'])
      expect(bare).not.toContain(`id="${id}"`);

    const dir = await mkdtemp(join(tmpdir(), 'ebm-report-'));
    try {
      await writeReport(join(dir, 'report.html'), input);
      expect(await readFile(join(dir, 'report.html'), 'utf8')).toBe(html);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without step records, draws the epoch losses on an epoch axis', () => {
    const html = renderReport({
      title: 't',
      history: [0, 1, 2].map((epoch) => ({
        epoch,
        loss: 3 - epoch,
        learningRate: 0.1,
        imagesPerSecond: 1,
        seconds: 1,
      })),
    });
    expect(html).toMatch(/id="loss-curve"[^>]*data-points="3"/);
    expect(html).toContain('>epoch</text>');
    expect(html).not.toContain('monitor-curve');
  });

  it('draws 200,000 step records (more than a call takes arguments) and a single epoch', () => {
    const steps = Array.from({ length: 200_000 }, (_, i) => ({
      type: 'step' as const,
      step: i + 1,
      epoch: Math.floor(i / 1000),
      loss: 1 / (i + 1),
      learningRate: 1e-3,
      imagesPerSecond: 1,
    }));
    expect(renderReport({ title: 't', steps })).toMatch(/id="loss-curve"[^>]*data-points="200000"/);
    // One epoch, lr 3e-4: the axis stays positive around the value.
    const one = renderReport({
      title: 't',
      history: [{ epoch: 0, loss: 4, learningRate: 3e-4, imagesPerSecond: 1, seconds: 1 }],
    });
    const lr = one.match(/id="lr-curve"[\s\S]*?<\/svg>/)![0];
    expect(lr).toContain('>2.70e-4</text>');
    expect(lr).toContain('>3.30e-4</text>');
  });

  it('the gallery neighbours are the brute-force cosine top 5', () => {
    const rng = new Rng(3);
    const d = 16;
    const bank = Float32Array.from({ length: 300 * d }, () => gaussian(rng));
    const queries = Float32Array.from({ length: 12 * d }, () => gaussian(rng));
    // A bank row that is a scaled copy of query 0: cosine 1, whatever its length.
    bank.set(
      queries.subarray(0, d).map((v) => v * 7),
      42 * d,
    );
    const found = cosineTopK(queries, bank, d, 5);
    const norm = (a: Float32Array) => Math.hypot(...a);
    for (let q = 0; q < 12; q++) {
      const qv = queries.subarray(q * d, (q + 1) * d);
      const sims = Array.from({ length: 300 }, (_, r) => {
        const bv = bank.subarray(r * d, (r + 1) * d);
        return { r, s: qv.reduce((a, v, j) => a + v * bv[j]!, 0) / (norm(qv) * norm(bv)) };
      }).sort((a, b) => b.s - a.s || a.r - b.r);
      expect(found[q]!.indices).toEqual(sims.slice(0, 5).map((x) => x.r));
      found[q]!.similarities.forEach((s, j) => expect(s).toBeCloseTo(sims[j]!.s, 5));
    }
    expect(found[0]!.indices[0]).toBe(42);
    expect(found[0]!.similarities[0]).toBeCloseTo(1, 5);
  });

  it('UMAP is reproducible under a seed and separates well-separated clusters', () => {
    const rng = new Rng(1);
    const n = 120;
    const d = 8;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const data = Float32Array.from({ length: n * d }, (_, k) => {
      const [i, j] = [Math.floor(k / d), k % d];
      return (j === labels[i] ? 10 : 0) + gaussian(rng) * 0.3;
    });
    const a = umapProject(data, n, d, { seed: 7, nEpochs: 100 });
    const b = umapProject(data, n, d, { seed: 7, nEpochs: 100 });
    const c = umapProject(data, n, d, { seed: 8, nEpochs: 100 });
    expect(a).toHaveLength(2 * n);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    // Each point's nearest 2-D neighbour is of its own cluster.
    let same = 0;
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < n; j++) {
        const dd =
          j === i ? Infinity : (a[2 * i]! - a[2 * j]!) ** 2 + (a[2 * i + 1]! - a[2 * j + 1]!) ** 2;
        if (dd < bestD) [best, bestD] = [j, dd];
      }
      if (labels[best] === labels[i]) same++;
    }
    expect(same).toBe(n);
  });

  it('encodes PNGs that a decoder reads back pixel for pixel', async () => {
    for (const channels of [1, 3] as const) {
      const [h, w] = [5, 7];
      const pixels = Uint8Array.from({ length: h * w * channels }, (_, i) => (i * 37) % 256);
      const png = encodePng(pixels, h, w, channels);
      const meta = await sharp(png).metadata();
      expect([meta.height, meta.width, meta.channels]).toEqual([h, w, channels]);
      const image = sharp(png);
      const data = await (channels === 1 ? image.extractChannel(0) : image).raw().toBuffer();
      expect(Array.from(data)).toEqual(Array.from(pixels));
    }
  });

  it('gallery queries take the classes in turn', () => {
    expect(spreadOverClasses(Int32Array.from([2, 2, 0, 1, 0, 2, 1]), 5)).toEqual([2, 3, 0, 4, 6]);
    expect(spreadOverClasses(Int32Array.from([1, 1]), 12)).toEqual([0, 1]);
  });
});
