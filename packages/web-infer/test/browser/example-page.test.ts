// The example page (examples/web-infer) in real headless Chromium: built with Vite, served on
// 127.0.0.1, run on the webgpu provider (SwiftShader's adapter with --enable-unsafe-webgpu) and
// on the wasm provider; both must match onnxruntime-node in this process. Screenshots of the
// page after a search go to packages/web-infer/runs/ (ignored by git).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../src/index.node.js';
import { FIXTURES, l2, maxAbsDiff, modelPath, reference } from '../helpers.js';
import { type StaticServer, serveStatic } from './static-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE = join(here, '..', '..');
const REPO = join(PACKAGE, '..', '..');
const RUNS = join(PACKAGE, 'runs');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ORT_DIST = dirname(
  createRequire(join(PACKAGE, 'package.json')).resolve('onnxruntime-web/wasm'),
);
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--headless=new',
];

interface SearchResult {
  name: string;
  embedding: number[];
  hits: { id: string; score: number }[];
}
interface Ready {
  device: string;
  runtime: string;
  fallbacks: { device: string; reason: string }[];
  timings: { createMs: number; galleryMs: number };
  crossOriginIsolated: boolean;
}

const QUERIES = ['circle.png', 'square-48x40.png', 'triangle-20x20.png', 'ring.png'];
const nodeRef: Record<string, Float32Array> = {};
let dist: string;
let server: StaticServer;
let browser: Browser;
const measured: Record<string, unknown> = {};

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'web-infer-example-'));
  // The example is built by Vite exactly as a user's bundler would consume the package.
  await promisify(execFile)(
    process.execPath,
    [
      join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      'examples/web-infer',
      '--outDir',
      dist,
      '--logLevel',
      'warn',
    ],
    { cwd: REPO },
  );
  server = await serveStatic({ '/': dist, '/ort/': ORT_DIST });
  const fx = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), {
    device: 'cpu',
    threads: 1,
  });
  const files = [...reference.images.map((i) => i.file)];
  const rows = await fx.extract(files.map((f) => join(FIXTURES, f)));
  files.forEach((f, i) => {
    nodeRef[f] = rows[i]!;
  });
  await fx.dispose();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...BASE_ARGS, '--enable-unsafe-webgpu'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist !== undefined) await rm(dist, { recursive: true, force: true });
  console.log(`browser example: ${JSON.stringify(measured, null, 1)}`);
});

async function openPage(
  b: Browser,
  query: string,
): Promise<{ page: Page; ready: Ready; errors: string[] }> {
  const page = await b.newPage({ viewport: { width: 1000, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/?${query}`);
  const ready = (await page.evaluate('window.ebmDemo.ready')) as Ready;
  return { page, ready, errors };
}

/** Picks the query images through the page's file input and returns the search results. */
async function search(page: Page): Promise<SearchResult[]> {
  const files = await Promise.all(
    QUERIES.map(async (name) => ({
      name,
      mimeType: 'image/png',
      buffer: await readFile(join(FIXTURES, 'query', name)),
    })),
  );
  await page.setInputFiles('#query-files', files);
  await page.waitForFunction(() => document.querySelectorAll('.query').length === 4);
  return (await page.evaluate('window.ebmDemo.lastSearch()')) as SearchResult[];
}

function compareToNode(gallery: Record<string, number[]>, results: SearchResult[]): number {
  let worst = 0;
  const urls = Object.keys(gallery);
  expect(urls).toHaveLength(32);
  for (const url of urls) {
    const file = new URL(url).pathname.slice(1);
    worst = Math.max(worst, maxAbsDiff(gallery[url]!, nodeRef[file]!));
  }
  for (const r of results)
    worst = Math.max(worst, maxAbsDiff(r.embedding, nodeRef[`query/${r.name}`]!));
  return worst;
}

/** The nearest gallery image by the Node embeddings, for each query. */
function nodeNearest(query: string): string {
  let best = '';
  let bestScore = -2;
  for (const [file, e] of Object.entries(nodeRef)) {
    if (!file.startsWith('gallery/')) continue;
    let dot = 0;
    for (let i = 0; i < e.length; i++) dot += e[i]! * nodeRef[`query/${query}`]![i]!;
    if (dot > bestScore) [best, bestScore] = [file, dot];
  }
  return best;
}

function expectSensibleNeighbours(results: SearchResult[]): void {
  expect(results.map((r) => r.name)).toEqual(QUERIES);
  for (const r of results) {
    expect(r.hits).toHaveLength(5);
    const ids = r.hits.map((h) => new URL(h.id).pathname.slice(1));
    // Same nearest neighbour as a search over the Node embeddings.
    expect(ids[0], r.name).toBe(nodeNearest(r.name));
    // The encoder has random weights, but shapes come in colour families: the query's class is
    // among the three nearest of the 32 (four images per class).
    const cls = r.name.split(/[-.]/)[0]!;
    expect(
      ids.slice(0, 3).some((id) => id.startsWith(`gallery/${cls}-`)),
      `${r.name}: ${ids}`,
    ).toBe(true);
    for (let i = 1; i < r.hits.length; i++)
      expect(r.hits[i]!.score).toBeLessThanOrEqual(r.hits[i - 1]!.score);
  }
}

describe('examples/web-infer in headless Chromium', () => {
  it('webgpu: SwiftShader adapter, embeddings equal onnxruntime-node (≤ 1e-3), search, screenshot', async () => {
    const { page, ready, errors } = await openPage(browser, 'device=webgpu');
    try {
      const adapter = await page.evaluate(async () => {
        const a = await (
          navigator as unknown as {
            gpu: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> };
          }
        ).gpu.requestAdapter();
        return a === null
          ? null
          : { vendor: a.info?.['vendor'], architecture: a.info?.['architecture'] };
      });
      measured['webgpu adapter'] = adapter;
      expect(adapter).not.toBeNull();
      expect(ready).toMatchObject({ device: 'webgpu', runtime: 'onnxruntime-web', fallbacks: [] });
      const results = await search(page);
      const worst = compareToNode(
        (await page.evaluate('window.ebmDemo.galleryEmbeddings()')) as Record<string, number[]>,
        results,
      );
      measured['webgpu vs onnxruntime-node max |diff|'] = worst;
      measured['webgpu timings (ms)'] = ready.timings;
      expect(worst).toBeLessThanOrEqual(1e-3);
      expectSensibleNeighbours(results);
      expect(await page.locator('#status').getAttribute('data-state')).toBe('ready');
      await mkdir(RUNS, { recursive: true });
      await page.screenshot({ path: join(RUNS, 'example-search-webgpu.png'), fullPage: true });
      expect(errors).toEqual([]);
      // The bundled build loads the .wasm asset Vite emitted next to the chunk.
      expect(
        server.requests.some((p) => /^\/assets\/ort-wasm-simd-threaded\.asyncify.*\.wasm$/.test(p)),
      ).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('wasm, 2 threads (cross-origin isolated), runtime files from node_modules via wasmPaths: equal to onnxruntime-node (≤ 1e-3)', async () => {
    const before = server.requests.length;
    const { page, ready, errors } = await openPage(
      browser,
      'device=wasm&threads=2&wasmPaths=/ort/',
    );
    try {
      expect(ready).toMatchObject({
        device: 'wasm',
        runtime: 'onnxruntime-web',
        fallbacks: [],
        crossOriginIsolated: true,
      });
      const results = await search(page);
      const worst = compareToNode(
        (await page.evaluate('window.ebmDemo.galleryEmbeddings()')) as Record<string, number[]>,
        results,
      );
      measured['wasm vs onnxruntime-node max |diff|'] = worst;
      measured['wasm timings (ms)'] = ready.timings;
      expect(worst).toBeLessThanOrEqual(1e-3);
      // Also against the tfjs reference the fixtures were generated with.
      const tfjsWorst = Math.max(
        ...results.map((r) =>
          maxAbsDiff(r.embedding, l2(reference.embeddings['conv-rgb-nchw']![`query/${r.name}`]!)),
        ),
      );
      measured['wasm vs tfjs max |diff|'] = tfjsWorst;
      expect(tfjsWorst).toBeLessThanOrEqual(1e-3);
      expectSensibleNeighbours(results);
      await page.screenshot({ path: join(RUNS, 'example-search-wasm.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(
        server.requests.slice(before).some((p) => p.startsWith('/ort/ort-wasm-simd-threaded')),
      ).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("'auto' falls back to wasm and says why when Chromium offers no WebGPU adapter", async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS });
    try {
      const { page, ready } = await openPage(plain, 'device=auto');
      expect(ready.device).toBe('wasm');
      expect(ready.fallbacks).toEqual([
        { device: 'webgpu', reason: expect.stringMatching(/webgpu.*adapter|navigator\.gpu/) },
      ]);
      measured['auto without --enable-unsafe-webgpu'] = ready.fallbacks;
      const info = await page.locator('#model-info').textContent();
      expect(info).toContain('fell back from');
      expect(info).toContain('webgpu: device "webgpu" failed to start');
      // Runtime files that are not where wasmPaths points: a clear BACKEND_UNAVAILABLE.
      const broken = await plain.newPage();
      await broken.goto(`${server.url}/?device=wasm&wasmPaths=/nowhere/`);
      const failure = await broken.evaluate(() =>
        (window as unknown as { ebmDemo: { ready: Promise<unknown> } }).ebmDemo.ready.then(
          () => null,
          (e: { name: string; code: string; message: string }) => ({
            name: e.name,
            code: e.code,
            message: e.message,
          }),
        ),
      );
      expect(failure).toMatchObject({
        name: 'EbmError',
        code: 'BACKEND_UNAVAILABLE',
        message: expect.stringMatching(/\/nowhere\/ort-wasm.*wasmPaths/),
      });
      expect(await broken.locator('#status').getAttribute('data-state')).toBe('error');
    } finally {
      await plain.close();
    }
  });
});

// A browser is needed: say so plainly instead of failing somewhere deep in playwright.
if (!existsSync(CHROMIUM)) {
  throw new Error(
    `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`,
  );
}
