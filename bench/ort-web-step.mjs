// The compiled SimCLR training step (issue 17) on onnxruntime-web: the same ONE-graph step that
// bench/ort-step.mjs runs on onnxruntime-node, here in headless Chromium on the 'webgpu' EP and on
// 'wasm' (1 thread, and 2 when the page is cross-origin isolated), plus ort-web's wasm in Node.
// Reports which providers open the step at all (ORT's error if not, and where ORT placed the
// nodes), median ms per step, and each run's losses against onnxruntime-node's on the same views.
// Chromium's WebGPU here is SwiftShader, a CPU rasteriser: its timings are not a speed claim.
//   pnpm --filter @ebmjs/export build && pnpm --filter @ebmjs/models build
//   node bench/ort-web-step.mjs [--steps 6] [--nets default,narrow] [--runs webgpu,wasm1,wasm2]
// Prints one JSON object (and a Markdown table on stderr).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

const { values: opt } = parseArgs({
  options: {
    steps: { type: 'string', default: '6' },
    batch: { type: 'string', default: '32' },
    nets: { type: 'string', default: 'default,narrow' },
    runs: { type: 'string', default: 'webgpu,wasm1,wasm2' },
    // Per page: SwiftShader compiles every WGSL pipeline on the first step.
    'page-timeout': { type: 'string', default: '900' },
    keep: { type: 'boolean', default: false },
  },
});

const here = dirname(fileURLToPath(import.meta.url));
const REPO = join(here, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const exportDist = join(REPO, 'packages/export/dist');
const modelsDist = join(REPO, 'packages/models/dist/index.js');
for (const f of [join(exportDist, 'index.js'), modelsDist]) {
  if (!existsSync(f))
    throw new Error(`${f} is missing: pnpm --filter @ebmjs/export build (and models).`);
}
const { experimental } = await import(join(exportDist, 'index.js'));
const models = await import(modelsDist);
// onnxruntime-node/-web are @ebmjs/export's devDependencies, playwright-core web-infer's.
const fromExport = createRequire(join(REPO, 'packages/export/package.json'));
const ortNode = fromExport('onnxruntime-node');
const ortWeb = await import(fromExport.resolve('onnxruntime-web'));
// Named explicitly: with onnxruntime-node loaded in the same process, ort-web's default 'cpu'
// resolves to the native backend both register (the run would time onnxruntime-node twice).
const ortWebWasm = {
  Tensor: ortWeb.Tensor,
  InferenceSession: {
    create: (m, options) =>
      ortWeb.InferenceSession.create(m, { ...options, executionProviders: ['wasm'] }),
  },
};
const { chromium } = createRequire(join(REPO, 'packages/web-infer/package.json'))(
  'playwright-core',
);

const steps = Number(opt.steps);
const batch = Number(opt.batch);
const lr = 1e-3;
const NETS = {
  default: { channels: undefined, label: 'convEncoder (32, 64, 128)' },
  narrow: { channels: [4, 8], label: 'convEncoder (4, 8)' },
};
const RUNS = {
  webgpu: { ep: 'webgpu', threads: 1 },
  wasm1: { ep: 'wasm', threads: 1 },
  wasm2: { ep: 'wasm', threads: 2 },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s[Math.floor((s.length - 1) / 2)];
};
/** Median of the steps after the first (the first allocates, and on WebGPU compiles shaders). */
const summary = (stepMs) => ({
  firstStepMs: Math.round(stepMs[0]),
  medianStepMs: stepMs.length > 1 ? Math.round(median(stepMs.slice(1))) : undefined,
});
const relDiff = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));

const root = mkdtempSync(join(tmpdir(), 'ort-web-step-'));
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model}`,
  loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  ortWeb: ortWeb.env.versions?.web,
  ortNode: ortNode.env.versions?.common,
  batch,
  inputShape: [28, 28, 1],
  steps,
  nets: {},
};

await tf.setBackend('cpu');
for (const name of opt.nets.split(',')) {
  const spec = NETS[name];
  const encoder = models.convEncoder({
    inputShape: [28, 28, 1],
    ...(spec.channels ? { channels: spec.channels } : {}),
    seed: 1,
  });
  const head = models.projectionHead({ inputDim: encoder.embeddingDim, seed: 2 });
  const graph = await experimental.buildSimclrStep(encoder.model, head.model, {
    batchSize: batch,
    temperature: 0.5,
  });
  const size = graph.viewDims.reduce((a, d) => a * d, 1);
  const v1 = tf.randomUniform([size], 0, 1, 'float32', 1).dataSync();
  const v2 = tf.randomUniform([size], 0, 1, 'float32', 2).dataSync();
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'step.onnx'), graph.model);
  const state = new Float32Array(graph.state.reduce((n, s) => n + s.initial.length, 0));
  let offset = 0;
  for (const s of graph.state) {
    state.set(s.initial, offset);
    offset += s.initial.length;
  }
  writeFileSync(join(dir, 'state.bin'), new Uint8Array(state.buffer));
  const views = new Float32Array(2 * size);
  views.set(v1);
  views.set(v2, size);
  writeFileSync(join(dir, 'views.bin'), new Uint8Array(views.buffer));
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      inputs: graph.inputs,
      data: graph.data,
      scalars: graph.scalars,
      outputs: graph.outputs,
      loss: graph.loss,
      viewDims: graph.viewDims,
      lr,
      state: graph.state.map((s) => ({ input: s.input, next: s.next, dims: s.dims, kind: s.kind })),
    }),
  );
  const params = graph.state
    .filter((s) => s.kind === 'weight')
    .reduce((n, s) => n + s.initial.length, 0);
  const entry = { label: spec.label, params, graphBytes: graph.model.length, runs: {} };
  result.nets[name] = entry;

  // The reference, and ort-web's wasm in Node, through the same engine on the same views.
  for (const [key, ort, label] of [
    ['node', ortNode, 'onnxruntime-node (CPU EP, 1 thread)'],
    ['web-in-node', ortWebWasm, 'onnxruntime-web wasm in Node (1 thread)'],
  ]) {
    if (key === 'web-in-node') ortWeb.env.wasm.numThreads = 1;
    const run = { label, ep: key === 'node' ? 'cpu' : 'wasm', threads: 1 };
    try {
      const engine = await experimental.OrtTrainingEngine.create(ort, graph, { threads: 1 });
      run.losses = [];
      run.stepMs = [];
      for (let i = 0; i < steps; i++) {
        const t = performance.now();
        run.losses.push((await engine.step(v1, v2, lr)).loss);
        run.stepMs.push(performance.now() - t);
      }
      run.preallocatedOutputs = engine.preallocatedOutputs;
      await engine.release();
      Object.assign(run, summary(run.stepMs));
    } catch (error) {
      run.error = String(error?.message ?? error).split('\n')[0];
    }
    entry.runs[key] = run;
  }
}

// The page: bench/ort-web-step-page.mjs bundled with the engine, onnxruntime-web's dist beside it.
const page = join(root, 'page');
mkdirSync(page);
execFileSync(
  process.execPath,
  [
    join(REPO, 'node_modules/esbuild/bin/esbuild'),
    join(here, 'ort-web-step-page.mjs'),
    '--bundle',
    '--format=esm',
    '--platform=browser',
    '--external:/ort/*',
    `--outfile=${join(page, 'page.js')}`,
    '--log-level=warning',
  ],
  { cwd: REPO, stdio: 'inherit' },
);
writeFileSync(
  join(page, 'index.html'),
  '<!doctype html><meta charset="utf-8"><title>ort-web step</title><script type="module" src="/page.js"></script>\n',
);
const ortDist = dirname(fromExport.resolve('onnxruntime-web/wasm'));
const mounts = { '/': page, '/ort/': ortDist };
for (const name of Object.keys(result.nets)) mounts[`/${name}/`] = join(root, name);
const server = await serveStatic(mounts);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--headless=new',
    '--enable-unsafe-webgpu',
  ],
});
result.chromium = browser.version();
try {
  for (const name of Object.keys(result.nets)) {
    const entry = result.nets[name];
    const reference = entry.runs.node.losses;
    for (const key of opt.runs.split(',')) {
      const { ep, threads } = RUNS[key];
      const tab = await browser.newPage();
      const warnings = [];
      tab.on('console', (m) => {
        if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text().slice(0, 300));
      });
      tab.on('pageerror', (e) => warnings.push(`pageerror: ${e.message}`));
      const t0 = performance.now();
      let run;
      try {
        await tab.goto(
          `${server.url}/?net=${name}&ep=${ep}&threads=${threads}&steps=${steps}&placement=${ep === 'webgpu' ? 1 : 0}`,
        );
        await tab.waitForFunction(() => window.__bench !== undefined, undefined, {
          timeout: Number(opt['page-timeout']) * 1000,
          polling: 1000,
        });
        run = await tab.evaluate(() => window.__bench);
      } catch (error) {
        run = { ep, threads, error: `page: ${String(error?.message ?? error).split('\n')[0]}` };
      }
      run.label = `Chromium ${ep}${ep === 'wasm' ? ` (${threads} thread${threads > 1 ? 's' : ''})` : ''}`;
      run.pageSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));
      if (warnings.length > 0) run.consoleWarnings = [...new Set(warnings)].slice(0, 20);
      if (run.stepMs) Object.assign(run, summary(run.stepMs));
      entry.runs[key] = run;
      await tab.close();
      process.stderr.write(`${name} ${key}: ${run.error ?? `${run.medianStepMs} ms/step`}\n`);
    }
    for (const run of Object.values(entry.runs)) {
      if (run.losses?.length === reference.length) {
        run.maxLossRelDiffVsNode = Number(relDiff(run.losses, reference).toExponential(2));
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
  if (!opt.keep) rmSync(root, { recursive: true, force: true });
}
result.loadavgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.stderr.write(`${table(result)}\n`);

/**
 * Serves `m` (URL prefix → folder) on 127.0.0.1 with the COOP/COEP headers that make the page
 * cross-origin isolated, so onnxruntime-web may start wasm threads (as web-infer's test server).
 */
async function serveStatic(m) {
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const types = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.wasm': 'application/wasm',
    '.json': 'application/json',
  };
  const prefixes = Object.keys(m).sort((a, b) => b.length - a.length);
  const srv = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    const rel = path.slice(prefix.length) || 'index.html';
    try {
      if (rel.includes('..')) throw new Error('outside');
      const body = await readFile(join(m[prefix], rel));
      res.writeHead(200, {
        'Content-Type': types[rel.slice(rel.lastIndexOf('.'))] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
      });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

function table(r) {
  const rows = [
    '| net | runtime | session | first step ms | median ms/step | losses (first → last) | max loss rel. diff vs node |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const e of Object.values(r.nets)) {
    for (const run of Object.values(e.runs)) {
      const l = run.losses;
      rows.push(
        `| ${e.label} | ${run.label} | ${run.error ? `fails: ${run.error.slice(0, 160)}` : 'ok'} | ${run.firstStepMs ?? '–'} | ${run.medianStepMs ?? '–'} | ${l?.length ? `${l[0].toFixed(4)} → ${l[l.length - 1].toFixed(4)}` : '–'} | ${run.maxLossRelDiffVsNode ?? '–'} |`,
      );
    }
  }
  return rows.join('\n');
}
