// Load test of `ebm serve` (@ebmjs/serve) on loopback with autocannon, against in-process
// FeatureExtractor.extract() on the same machine and model. Part of `pnpm bench` (--parts serve);
// bounded in count and time. Prints a table (or --json).
//
//   node bench/serve-load.mjs [--requests 2000] [--concurrency 1,16,64] [--soak 10000]
//                             [--max-batch 32] [--max-queue-delay-ms 2] [--json]
//
// The model is the demo's encoder: runs/demo/encoder.onnx when `ebm demo` has written one,
// otherwise the same architecture (convEncoder, 28×28×1, seed 0) exported now — throughput
// does not depend on the weights. Each request is one 28×28 PNG on POST /v1/embed.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '1,16,64' },
    soak: { type: 'string', default: '10000' },
    'max-batch': { type: 'string', default: '32' },
    'max-queue-delay-ms': { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const dist = (pkg, file = 'index.js') =>
  new URL(`../packages/${pkg}/dist/${file}`, import.meta.url);
for (const [pkg, file] of [
  ['serve'],
  ['web-infer', 'index.node.js'],
  ['models'],
  ['export'],
  ['backends'],
]) {
  if (!existsSync(dist(pkg, file)))
    throw new Error(`packages/${pkg}/dist is missing: run \`pnpm bench\` (it builds first).`);
}
const requireServe = createRequire(new URL('../packages/serve/package.json', import.meta.url));
const autocannon = requireServe('autocannon');
const sharp = requireServe('sharp');
const { createServer } = await import(dist('serve').href);
const { FeatureExtractor } = await import(dist('web-infer', 'index.node.js').href);
const log = (line) => process.stderr.write(`${line}\n`);

async function demoEncoder() {
  const file = new URL('../runs/demo/encoder.onnx', import.meta.url);
  if (existsSync(file)) return { model: readFileSync(file), source: 'runs/demo/encoder.onnx' };
  const { selectBackend } = await import(dist('backends').href);
  await selectBackend({ backend: 'cpu', env: {} });
  const { convEncoder } = await import(dist('models').href);
  const { exportOnnx } = await import(dist('export').href);
  const encoder = convEncoder({ inputShape: [28, 28, 1], seed: 0 });
  const model = await exportOnnx(encoder.model, {
    preprocessing: { scale: 1 / 255, mean: 0, std: 1 },
  });
  encoder.model.dispose();
  return { model, source: "the demo's convEncoder (28×28×1, seed 0), exported now" };
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Samples per run from the server's ebm_batch_size histogram, as counts per bucket. */
function batchHistogram(text) {
  const buckets = [...text.matchAll(/^ebm_batch_size_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const out = {};
  let prev = 0;
  for (const [le, cum] of buckets) {
    out[le] = cum - prev;
    prev = cum;
  }
  return out;
}
const diff = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

const { model, source } = await demoEncoder();
const png = await sharp(Buffer.from(Array.from({ length: 28 * 28 }, (_, i) => (i * 37) % 256)), {
  raw: { width: 28, height: 28, channels: 1 },
})
  .png()
  .toBuffer();
const requests = Number(opt.requests);
const levels = opt.concurrency.split(',').map(Number);
const server = await createServer({
  model,
  name: 'demo',
  device: 'cpu',
  maxBatch: Number(opt['max-batch']),
  maxQueueDelayMs: Number(opt['max-queue-delay-ms']),
});
const url = await server.listen({ port: 0 });
const metrics = async () => (await fetch(`${url}/metrics`)).text();
const rows = [];

for (const connections of levels) {
  log(`ebm serve: ${requests} requests at concurrency ${connections}`);
  const before = batchHistogram(await metrics());
  const r = await autocannon({
    url: `${url}/v1/embed`,
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: png,
    connections,
    amount: requests,
    timeout: 30,
  });
  const histogram = diff(before, batchHistogram(await metrics()));
  rows.push({
    what: 'ebm serve /v1/embed',
    concurrency: connections,
    requests: r.requests.total,
    non2xx: r.non2xx + r.errors,
    perSecond: r.requests.total / (r.duration || 1),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    batchSizes: histogram,
  });
}

// In-process: the same PNG bytes through extract(), `connections` calls in flight at a time.
const extractor = await FeatureExtractor.create(model, {
  device: 'cpu',
  batchSize: Number(opt['max-batch']),
});
for (const connections of levels) {
  log(`in-process extract(): ${requests} calls at concurrency ${connections}`);
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next++ < requests) {
        const t = performance.now();
        await extractor.extract(png);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  rows.push({
    what: 'in-process extract()',
    concurrency: connections,
    requests: latencies.length,
    non2xx: 0,
    perSecond: latencies.length / seconds,
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
  });
}
await extractor.dispose();

// Memory across a long run: RSS and heap before and after `soak` more requests.
const soak = Number(opt.soak);
globalThis.gc?.();
const memBefore = process.memoryUsage();
log(`memory: ${soak} requests at concurrency 16`);
const s = await autocannon({
  url: `${url}/v1/embed`,
  method: 'POST',
  headers: { 'content-type': 'image/png' },
  body: png,
  connections: 16,
  amount: soak,
  timeout: 30,
});
globalThis.gc?.();
const memAfter = process.memoryUsage();
await server.close();

const MB = (b) => (b / 2 ** 20).toFixed(1);
const report = {
  command: `node bench/serve-load.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model,
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    node: process.version,
    load: os.loadavg(),
  },
  model: source,
  server: {
    maxBatch: Number(opt['max-batch']),
    maxQueueDelayMs: Number(opt['max-queue-delay-ms']),
  },
  results: rows,
  memory: {
    requests: s.requests.total,
    non2xx: s.non2xx + s.errors,
    gcBetween: typeof globalThis.gc === 'function',
    rssMbBefore: Number(MB(memBefore.rss)),
    rssMbAfter: Number(MB(memAfter.rss)),
    heapMbBefore: Number(MB(memBefore.heapUsed)),
    heapMbAfter: Number(MB(memAfter.heapUsed)),
  },
};
if (opt.json) console.log(JSON.stringify(report, null, 2));
else {
  const pad = (x, n) => String(x).padStart(n);
  console.log(
    `model: ${source}; ${report.machine.cpus} CPUs (${report.machine.cpu}), Node ${process.version}`,
  );
  console.log(
    `${'what'.padEnd(22)} ${pad('conc', 5)} ${pad('req', 6)} ${pad('req/s', 8)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)}  batch sizes (samples per run: runs)`,
  );
  for (const r of rows) {
    const hist = r.batchSizes
      ? Object.entries(r.batchSizes)
          .filter(([, n]) => n > 0)
          .map(([le, n]) => `≤${le}: ${n}`)
          .join(', ')
      : '';
    console.log(
      `${r.what.padEnd(22)} ${pad(r.concurrency, 5)} ${pad(r.requests, 6)} ${pad(r.perSecond.toFixed(0), 8)} ${pad(r.p50ms.toFixed(2), 8)} ${pad(r.p99ms.toFixed(2), 8)}  ${hist}${r.non2xx ? `  (${r.non2xx} failed)` : ''}`,
    );
  }
  const m = report.memory;
  console.log(
    `memory over ${m.requests} more requests${m.gcBetween ? ' (gc before each reading)' : ''}: RSS ${m.rssMbBefore} → ${m.rssMbAfter} MB, heap ${m.heapMbBefore} → ${m.heapMbAfter} MB${m.non2xx ? `; ${m.non2xx} failed` : ''}`,
  );
}
