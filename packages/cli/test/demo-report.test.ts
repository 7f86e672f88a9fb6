import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pca } from '../src/demo/pca.js';
import { renderReport, writeReport } from '../src/demo/report.js';

describe('the demo report', () => {
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

  it('renders an escaped, self-contained page with accuracies in % and one dot per point', async () => {
    const input = {
      title: 'SimCLR <demo> & "run"',
      history: [0, 1].map((epoch) => ({
        epoch,
        loss: 5 - epoch,
        learningRate: 0.1,
        imagesPerSecond: 100,
        seconds: 1,
        metrics: { knn: 0.5 + epoch / 4 },
      })),
      summary: { 'kNN accuracy': 0.931, backend: 'wasm' },
      scatter: {
        points: Float32Array.from([0, 0, 1, 1, 2, 0]),
        labels: Int32Array.from([0, 1, 1]),
        classNames: ['zero', 'one'],
        caption: 'PCA of 3 embeddings',
      },
    };
    const html = renderReport(input);
    expect(html).toContain('<title>SimCLR &lt;demo&gt; &amp; &quot;run&quot;</title>');
    expect(html).not.toContain('<demo>');
    expect(html).toContain('<td>93.10%</td>');
    expect(html).toContain('<td>wasm</td>');
    expect(html.match(/r="2.2"/g)).toHaveLength(3);
    expect(html).toContain('PCA of 3 embeddings');
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(renderReport({ ...input, scatter: undefined })).not.toContain('Test embeddings');

    const dir = await mkdtemp(join(tmpdir(), 'ebm-report-'));
    try {
      await writeReport(join(dir, 'report.html'), input);
      expect(await readFile(join(dir, 'report.html'), 'utf8')).toBe(html);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
