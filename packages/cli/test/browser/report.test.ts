// report.html of a tiny 2-epoch SimCLR run, opened in real headless Chromium (Debian's, driven
// by playwright-core as web-infer's browser tests do): every chart and scatter has coloured
// pixels, every gallery/view image decoded, the loss curve has one point per step record, and
// nothing is fetched. Screenshots go to runs/report-test/ (ignored by git).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { selectBackend } from '@ebmjs/backends';
import { mlpEncoder, saveModel } from '@ebmjs/models';
import { evaluateEmbedder, loadMnist, take, trainSimCLR } from '@ebmjs/train';
import { readStepMetrics } from '@ebmjs/train/node';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { reportCallbacks } from '../../src/report/callback.js';
import { tfjsEmbed } from '../../src/report/collect.js';
import { recipeAugmentation } from '../../src/report/views.js';
import { writeRunInfo } from '../../src/run-dir.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const RUN = join(REPO, 'runs', 'report-test');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

let browser: Browser;
/** report.html as the callback left it after each epoch. */
const afterEpoch: string[] = [];
let stepCount = 0;

beforeAll(async () => {
  await rm(RUN, { recursive: true, force: true });
  await mkdir(RUN, { recursive: true });
  await selectBackend();
  const train = take(await loadMnist({ split: 'train' }), 256, 0);
  const test = take(await loadMnist({ split: 'test' }), 200, 0);
  // A small MLP: the test is about the report, and a ConvNet trains at ~50 img/s on 2 cores.
  const encoder = mlpEncoder({
    inputShape: [28, 28, 1],
    hiddenUnits: [128],
    embeddingDim: 64,
    seed: 0,
  });
  const config = { epochs: 2, batchSize: 64, logEverySteps: 1, seed: 0 };
  const report = reportCallbacks({
    path: join(RUN, 'report.html'),
    title: 'report test: SimCLR on 256 MNIST images',
    runDir: RUN,
    epochs: 2,
    embed: tfjsEmbed(encoder.model),
    train,
    test,
    augmentation: recipeAugmentation('simclr', train.imageShape),
    settings: { recipe: 'simclr', ...config },
  });
  const result = await trainSimCLR({
    ...config,
    dataset: train,
    encoder,
    runDir: RUN,
    // Monitor numbers in the epoch records, as an `evaluate` callback puts them there.
    evaluate: () => {
      const r = evaluateEmbedder(encoder.model, train, test, {
        knn: { k: 10 },
        linear: { epochs: 5 },
      });
      return { knn: r.knn, linearProbe: r.linear };
    },
    callbacks: [
      report,
      {
        onEpochEnd: async () =>
          void afterEpoch.push(await readFile(join(RUN, 'report.html'), 'utf8')),
      },
    ],
  });
  result.head.model.dispose();
  stepCount = (await readStepMetrics(join(RUN, 'metrics.jsonl'))).length;
  // `ebm eval` on the same run writes the report with its results table.
  await saveModel(encoder.model, join(RUN, 'encoder'));
  await writeRunInfo(RUN, {
    recipe: 'simclr',
    dataset: 'mnist',
    imageShape: [28, 28, 1],
    config,
    stopReason: result.stopReason,
    seconds: result.seconds,
  });
  encoder.model.dispose();
  const io = { out: () => {}, err: () => {} };
  const code = await main(
    [
      'eval',
      RUN,
      '--train-limit',
      '256',
      '--test-limit',
      '200',
      '--k',
      '10',
      '--report',
      join(RUN, 'eval-report.html'),
    ],
    io,
  );
  expect(code).toBe(0);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--headless=new',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** Pixels of a screenshot that are clearly coloured (not white, gray or black): drawn data. */
async function colouredPixels(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let count = 0;
  for (let i = 0; i < info.width * info.height; i++) {
    const [r, g, b] = [data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 40) count++;
  }
  return count;
}

async function open(file: string, screenshot: string) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  const fetched: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) fetched.push(r.url());
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForLoadState('load');
  await page.screenshot({ path: join(RUN, screenshot), fullPage: true });
  return { page, errors, fetched };
}

describe('report.html in Chromium', () => {
  it('was rewritten after each epoch, showing the run so far', () => {
    expect(afterEpoch).toHaveLength(2);
    expect(afterEpoch[0]).toContain('running: epoch 1 of 2 done');
    expect(afterEpoch[1]).toContain('running: epoch 2 of 2 done');
    const points = afterEpoch.map((h) =>
      Number(h.match(/id="loss-curve"[^>]*data-points="(\d+)"/)?.[1]),
    );
    expect(points[0]).toBeGreaterThan(0);
    expect(points[1]).toBe(stepCount);
    expect(points[0]! * 2).toBe(stepCount);
  });

  for (const [file, shot] of [
    ['report.html', 'report.png'],
    ['eval-report.html', 'eval-report.png'],
  ] as const) {
    it(`${file}: every picture rendered, one loss point per logged step`, async () => {
      const { page, errors, fetched } = await open(join(RUN, file), shot);
      try {
        expect(errors).toEqual([]);
        expect(fetched).toEqual([]);
        const svgs = page.locator('svg');
        const ids = await svgs.evaluateAll((els) =>
          els.map((e) => e.id || e.getAttribute('class')),
        );
        // loss, learning rate, monitors, UMAP, PCA.
        expect(ids).toEqual(['loss-curve', 'lr-curve', 'monitor-curve', 'scatter', 'scatter']);
        for (let i = 0; i < ids.length; i++) {
          const shotOf = await svgs.nth(i).screenshot();
          expect(await colouredPixels(shotOf), `${ids[i]} has coloured pixels`).toBeGreaterThan(
            200,
          );
        }
        const loss = page.locator('#loss-curve');
        expect(Number(await loss.getAttribute('data-points'))).toBe(stepCount);
        const vertices = await loss
          .locator('polyline')
          .first()
          .evaluate((p) => (p as SVGPolylineElement).points.numberOfItems);
        expect(vertices).toBe(stepCount);
        // Two epochs: two epoch-loss markers.
        expect(await loss.locator('circle').count()).toBe(2);
        expect(Number(await page.locator('svg.scatter').first().getAttribute('data-points'))).toBe(
          200,
        );
        const images = await page
          .locator('img.thumb')
          .evaluateAll((els) =>
            els.map((e) => [
              (e as HTMLImageElement).complete,
              (e as HTMLImageElement).naturalWidth,
            ]),
          );
        // 12 gallery rows × (query + 5 neighbours) + 8 images × (image + 2 views).
        expect(images).toHaveLength(12 * 6 + 8 * 3);
        for (const [complete, width] of images) {
          expect(complete).toBe(true);
          expect(width).toBe(28);
        }
        const gallery = await page.locator('#gallery').screenshot();
        expect((await sharp(gallery).stats()).channels[0]!.stdev).toBeGreaterThan(20);
        if (file === 'eval-report.html') {
          expect(await page.locator('#results').textContent()).toMatch(/kNN accuracy\d+\.\d+%/);
          expect(await page.locator('#settings').textContent()).toMatch(/eval backend/);
        }
      } finally {
        await page.close();
      }
      expect(existsSync(join(RUN, shot))).toBe(true);
    });
  }
});
