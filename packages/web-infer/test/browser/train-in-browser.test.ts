// examples/train-in-browser in headless Chromium: built with its esbuild script, served on
// 127.0.0.1, trained on WebGPU (SwiftShader's adapter with --enable-unsafe-webgpu). The loss
// must fall, and the embeddings the page computed with its own ONNX export on onnxruntime-web
// must equal onnxruntime-node's for the same ONNX bytes and test digits. SwiftShader is a CPU
// rasteriser: the default ConvNet takes ~70 s a step there on 2 loaded cores, so the test
// trains a reduced convEncoder (channels 4, 8) at batch 8; compiling the ~120 WGSL pipelines of
// the first step dominates (~100 s on a loaded 2-core machine).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../src/index.node.js';
import { maxAbsDiff } from '../helpers.js';
import { type StaticServer, serveStatic } from './static-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE = join(here, '..', '..');
const REPO = join(PACKAGE, '..', '..');
const RUNS = join(PACKAGE, 'runs');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--headless=new',
];
// Reduced for SwiftShader (see above); a fixed seed and a 64-image training set, so the loss
// falls within 10 steps (wasm in Node, same settings: first 3 steps 2.83, last 3 2.41).
const SETTINGS = 'channels=4,8&batch=8&train=64&lr=0.01&seed=0&steps=10&gallery=56&queries=8';

interface PageResult {
  state: string;
  backend: string;
  adapter: { vendor?: string; architecture?: string } | null;
  attempts: { candidate: string; ok: boolean; reason?: string }[];
  losses: number[];
  stepMs: number[];
  timings: Record<string, number>;
  onnxBase64: string;
  embeddings: number[][];
  tfjsEmbeddings: number[][];
  neighbours: number[][];
  embedDevice: string;
}

let dist: string;
let server: StaticServer;
let browser: Browser;
const measured: Record<string, unknown> = {};

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'train-in-browser-'));
  await promisify(execFile)(
    process.execPath,
    [join(REPO, 'examples', 'train-in-browser', 'build.mjs'), '--outdir', dist, '--test', '64'],
    { cwd: REPO },
  );
  server = await serveStatic({ '/': dist });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...BASE_ARGS, '--enable-unsafe-webgpu'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist !== undefined) await rm(dist, { recursive: true, force: true });
  console.log(`train-in-browser: ${JSON.stringify(measured, null, 1)}`);
});

/** The first `n` test digits of the page's mnist-subset.bin, as the page fed them to the encoder. */
async function testDigits(n: number): Promise<{ data: Float32Array; dims: number[] }> {
  const buf = await readFile(join(dist, 'mnist-subset.bin'));
  const nTrain = buf.readUInt32LE(4);
  const start = 16 + nTrain * 784 + nTrain;
  const data = Float32Array.from(buf.subarray(start, start + n * 784), (v) => v / 255);
  return { data, dims: [n, 28, 28, 1] };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('examples/train-in-browser in headless Chromium', () => {
  it('trains on webgpu (SwiftShader), the loss falls, and the in-page ONNX embeddings equal onnxruntime-node (≤ 1e-4)', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${server.url}/?backend=webgpu&${SETTINGS}`);
      const r = (await page.evaluate('window.__ebmDone')) as PageResult;
      measured['adapter'] = r.adapter;
      measured['losses'] = r.losses.map((l) => Number(l.toFixed(4)));
      measured['step ms'] = r.stepMs.map((t) => Math.round(t));
      measured['timings (ms)'] = r.timings;
      expect(r.state).toBe('done');
      expect(r.backend).toBe('webgpu');
      expect(r.adapter?.architecture).toBe('swiftshader');
      expect(r.losses).toHaveLength(10);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(mean(r.losses.slice(-3))).toBeLessThan(mean(r.losses.slice(0, 3)));

      // The page's own export, run by onnxruntime-node on the same digits.
      const n = r.embeddings.length;
      expect(n).toBe(64);
      const fx = await FeatureExtractor.create(Buffer.from(r.onnxBase64, 'base64'), {
        device: 'cpu',
        threads: 1,
      });
      const rows = await fx.extract(await testDigits(n));
      await fx.dispose();
      let worst = 0;
      rows.forEach((row, i) => {
        worst = Math.max(worst, maxAbsDiff(r.embeddings[i]!, row));
      });
      measured[`page (${r.embedDevice}) vs onnxruntime-node max |diff|`] = worst;
      expect(worst).toBeLessThanOrEqual(1e-4);
      // The export computes what tfjs trained: the page's tfjs (webgpu) embeddings of the queries.
      let tfjsWorst = 0;
      r.tfjsEmbeddings.forEach((e, i) => {
        tfjsWorst = Math.max(tfjsWorst, maxAbsDiff(e, rows[i]!));
      });
      measured['tfjs webgpu vs onnxruntime-node max |diff|'] = tfjsWorst;
      expect(tfjsWorst).toBeLessThanOrEqual(1e-3);

      // The gallery: 8 queries with 5 neighbours each, the nearest one as Node's embeddings say.
      expect(r.neighbours).toHaveLength(8);
      r.neighbours.forEach((hits, q) => {
        expect(hits).toHaveLength(5);
        let best = -1;
        let bestScore = -2;
        for (let j = 8; j < n; j++) {
          let dot = 0;
          for (let d = 0; d < rows[q]!.length; d++) dot += rows[q]![d]! * rows[j]![d]!;
          if (dot > bestScore) [best, bestScore] = [j, dot];
        }
        expect(hits[0]).toBe(best);
      });
      expect(await page.locator('.query').count()).toBe(8);
      expect(await page.locator('#status').getAttribute('data-state')).toBe('done');
      await mkdir(RUNS, { recursive: true });
      await page.screenshot({ path: join(RUNS, 'train-in-browser-webgpu.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 480_000);

  it('falls back to wasm without a WebGPU adapter and says why on the page', async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS });
    try {
      const page = await plain.newPage();
      await page.goto(`${server.url}/?${SETTINGS}`);
      await page.waitForFunction(() => {
        const s = (window as unknown as { __ebm: { state: string } }).__ebm.state;
        return s !== 'loading';
      });
      const r = (await page.evaluate('window.__ebm')) as PageResult;
      expect(r.backend).toBe('wasm');
      expect(r.attempts[0]).toMatchObject({ candidate: 'webgpu', ok: false });
      measured['fallback'] = r.attempts;
      expect(await page.locator('#backend-info').textContent()).toContain('webgpu:');
    } finally {
      await plain.close();
    }
  }, 120_000);
});

// A browser is needed: say so plainly instead of failing somewhere deep in playwright.
if (!existsSync(CHROMIUM)) {
  throw new Error(
    `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`,
  );
}
