import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import type { ImageDataset } from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  densityPanel,
  LAB_BOX,
  type LabProgress,
  makeGrid,
  runLab,
  toyDataset,
  toySplit,
  viridis,
} from '../src/index.js';

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

/**
 * Test NLL of the Gaussian fitted by maximum likelihood to `train`, renormalised to the lab's box
 * as the lab does, computed here on its own: the closed-form NLL plus the log of the Gaussian's
 * mass in the box (by a fine midpoint rule in float64, not the lab's grid).
 */
function gaussianBaselineNll(train: Float32Array, test: Float32Array): number {
  const n = train.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) [mx, my] = [mx + train[2 * i]! / n, my + train[2 * i + 1]! / n];
  let [a, b, c] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const dx = train[2 * i]! - mx;
    const dy = train[2 * i + 1]! - my;
    [a, b, c] = [a + (dx * dx) / n, b + (dx * dy) / n, c + (dy * dy) / n];
  }
  const det = a * c - b * b;
  const logPdf = (x: number, y: number) => {
    const dx = x - mx;
    const dy = y - my;
    return (
      -(c * dx * dx - 2 * b * dx * dy + a * dy * dy) / (2 * det) -
      Math.log(2 * Math.PI * Math.sqrt(det))
    );
  };
  const cells = 1500;
  const h = (LAB_BOX.hi - LAB_BOX.lo) / cells;
  let mass = 0;
  for (let i = 0; i < cells; i++)
    for (let j = 0; j < cells; j++)
      mass += Math.exp(logPdf(LAB_BOX.lo + (i + 0.5) * h, LAB_BOX.lo + (j + 0.5) * h)) * h * h;
  let nll = 0;
  const m = test.length / 2;
  for (let k = 0; k < m; k++) nll -= logPdf(test[2 * k]!, test[2 * k + 1]!) / m;
  return nll + Math.log(mass);
}

/**
 * The closed-form pseudo-log-likelihood of independent pixels: with p(v) = Π q_j^v_j (1 − q_j)^(1−v_j)
 * every conditional p(v_j | v_−j) is the marginal itself, so PLL(v) = Σ_j log p(v_j). q: the
 * training images' pixel frequencies clipped to [1e-3, 1 − 1e-3], as the lab's baseline does.
 */
function independentPixelsPll(train: ImageDataset, test: ImageDataset): number {
  const d = 16;
  const nTrain = train.labels.length;
  const q = Array.from({ length: d }, (_, j) => {
    let on = 0;
    for (let i = 0; i < nTrain; i++) if (train.pixels[i * d + j]! > 127.5) on++;
    return Math.min(1 - 1e-3, Math.max(1e-3, on / nTrain));
  });
  const nTest = test.labels.length;
  let pll = 0;
  for (let i = 0; i < nTest; i++)
    for (let j = 0; j < d; j++)
      pll += Math.log(test.pixels[i * d + j]! > 127.5 ? q[j]! : 1 - q[j]!) / nTest;
  return pll;
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
      datasets: ['8gaussians', 'pinwheel', 'checkerboard'],
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
    expect(toy.rows.map((r) => r.dataset)).toEqual(['8gaussians', 'pinwheel', 'checkerboard']);
    expect(toy.rows[0]!.trueNll).toBeGreaterThan(2.5);
    expect(toy.rows[1]!.trueNll).toBeNull();
    // Known answers of this seeded run (each method's NLL is at least 0.05 nats from the
    // Gaussian's): after 12 steps no method beats the Gaussian on 8 Gaussians or the pinwheel,
    // while on the checkerboard, which a Gaussian fits worse than the uniform density on the box
    // (log 81 = 4.39 nats), both do.
    const beats = { '8gaussians': false, pinwheel: false, checkerboard: true } as const;
    for (const row of toy.rows) {
      const { train, test } = toySplit(toyDataset(row.dataset), { train: 600, test: 200, seed: 0 });
      const gaussian = gaussianBaselineNll(train, test);
      expect(row.gaussianNll).toBeCloseTo(gaussian, 3);
      for (const m of ['ml', 'dae'] as const) {
        const r = row.methods[m]!;
        expect(Number.isFinite(r.nll)).toBe(true);
        expect(Math.abs(r.nll - gaussian)).toBeGreaterThan(0.05);
        expect(r.nll < gaussian, `${m} on ${row.dataset}: NLL ${r.nll} vs ${gaussian}`).toBe(
          beats[row.dataset as keyof typeof beats],
        );
        expect(r.beatsGaussian, `${m} on ${row.dataset}`).toBe(
          beats[row.dataset as keyof typeof beats],
        );
      }
    }
    const rbm = result.rbm!;
    expect(rbm.rows.map((r) => r.method)).toEqual(['marginals', 'cd', 'mpf']);
    // The independent-pixel baseline has a closed-form PLL.
    expect(rbm.rows[0]!.pseudoLogLikelihood).toBeCloseTo(
      independentPixelsPll(tinyImages(80, 1), tinyImages(30, 2)),
      4,
    );
    // The RBMs start at W ≈ 0 (std 0.01), b = c = 0, whose PLL is that of uniform pixels,
    // 16 log ½ = −11.09 nats: a method whose updates do nothing or climb the wrong way stays
    // there or falls below it.
    for (const r of rbm.rows.slice(1)) {
      expect(r.pseudoLogLikelihood, r.method).toBeLessThan(0);
      expect(r.pseudoLogLikelihood, r.method).toBeGreaterThan(16 * Math.log(0.5) + 0.1);
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

    // energies.png: 3 rows of panels under a header; 4 columns (data, Gaussian, 2 methods).
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
