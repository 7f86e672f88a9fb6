import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/datasets/dataset.js';
import { densityPanel, type LabProgress, makeGrid, runLab, viridis } from '../../src/lab/index.js';

useCpuBackend();

/** Random 4×4 binary images with a few fixed pixels on: enough for the RBM part to run. */
function tinyImages(n: number, seed: number): ImageDataset {
  const pixels = new Uint8Array(n * 16);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < 16; k++)
      pixels[i * 16 + k] = ((i * 7 + k * 3 + seed) % 5 === 0 ? 1 : 0) * 255;
  return {
    name: 'tiny',
    imageShape: [4, 4, 1],
    pixels,
    labels: new Int32Array(n),
    classNames: ['t'],
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebm-lab-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runLab', () => {
  it('writes the tables, the pictures and the report, and returns the tables', async () => {
    const events: LabProgress[] = [];
    const before = tf.memory().numTensors;
    const out = join(dir, 'lab');
    const result = await runLab({
      datasets: ['8gaussians', 'pinwheel'],
      methods: ['ml', 'dae'],
      steps: 12,
      gridSize: 60,
      trainSize: 600,
      testSize: 200,
      batchSize: 64,
      hiddenUnits: [8],
      out,
      rbm: {
        train: tinyImages(80, 1),
        test: tinyImages(30, 2),
        numHidden: 4,
        steps: 6,
        batchSize: 16,
        samples: 3,
        gibbsSteps: 4,
        methods: ['cd', 'mpf'],
      },
      command: 'ebm lab --test',
      onProgress: (e) => events.push(e),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.out).toBe(out);
    for (const f of Object.values(result.files)) expect((await stat(f)).size).toBeGreaterThan(0);

    const toy = result.toy!;
    expect(toy.rows.map((r) => r.dataset)).toEqual(['8gaussians', 'pinwheel']);
    expect(toy.rows[0]!.trueNll).toBeGreaterThan(2.5);
    expect(toy.rows[1]!.trueNll).toBeNull();
    for (const row of toy.rows) {
      for (const m of ['ml', 'dae'] as const) {
        const r = row.methods[m]!;
        expect(Number.isFinite(r.nll)).toBe(true);
        expect(r.beatsGaussian).toBe(r.nll < row.gaussianNll);
      }
    }
    const rbm = result.rbm!;
    expect(rbm.rows.map((r) => r.method)).toEqual(['marginals', 'cd', 'mpf']);
    for (const r of rbm.rows) {
      expect(r.pseudoLogLikelihood).toBeLessThan(0);
      expect(r.pseudoLogLikelihood).toBeGreaterThan(-16 * Math.log(1e4));
    }

    const json = JSON.parse(await readFile(result.files.tableJson, 'utf8'));
    expect(json.toy.rows[0].methods.ml.nll).toBeCloseTo(toy.rows[0]!.methods.ml!.nll, 10);
    expect(json.rbm.rows).toHaveLength(3);
    expect(json.command).toBe('ebm lab --test');
    const md = await readFile(result.files.tableMd, 'utf8');
    expect(md).toBe(result.markdown);
    expect(md).toContain(
      '| dataset | true density | Gaussian fit | ML (exact Z) | DAE (β fitted) |',
    );
    expect(md).toMatch(/\| 8 Gaussians \| 2\.\d{3} \| 4\.\d{3} \|/);
    expect(md).toContain('| CD-1 |');
    const html = await readFile(result.files.reportHtml, 'utf8');
    expect(html).toContain('data:image/png;base64,');
    expect(html).toContain('<th>ML (exact Z)</th>');

    // energies.png: 2 rows of panels under a header; 4 columns (data, Gaussian, 2 methods).
    const png = await sharp(result.files.energiesPng!).metadata();
    expect(png.format).toBe('png');
    expect(png.width).toBe(130 + 4 * (150 + 6) + 6);
    const samples = await sharp(result.files.rbmSamplesPng!).metadata();
    expect(samples.height).toBeGreaterThan(3 * 8);

    expect(events.some((e) => e.phase === 'toy' && e.method === 'dae')).toBe(true);
    expect(events.some((e) => e.phase === 'rbm' && e.method === 'mpf')).toBe(true);
    expect(events.filter((e) => e.phase === 'write')).toHaveLength(5);
  });

  it('rejects unknown names before training or writing anything', async () => {
    const out = join(dir, 'never');
    await expect(runLab({ datasets: ['spirals' as never], out })).rejects.toThrow(EbmError);
    await expect(runLab({ methods: ['vae' as never], out })).rejects.toThrow(/Unknown lab method/);
    await expect(stat(out)).rejects.toThrow();
    await expect(runLab({ datasets: [], rbm: false, out })).rejects.toThrow(/nothing to run/);
  });
});

describe('pictures', () => {
  it('maps low energy to bright colours, with y pointing up', () => {
    expect(viridis(0)).toEqual([68, 1, 84]);
    expect(viridis(1)).toEqual([253, 231, 37]);
    const grid = makeGrid({ lo: 0, hi: 2 }, 2);
    // Lowest energy in the top-left cell (x small, y large: grid index j = 1, i = 0).
    const energies = new Float32Array([5, 5, 0, 5]);
    const panel = densityPanel(energies, grid, 4);
    expect(Array.from(panel.data.slice(0, 3))).toEqual(viridis(1));
    expect(Array.from(panel.data.slice(3 * 15, 3 * 16))).toEqual(viridis(Math.exp(-5)));
  });
});
