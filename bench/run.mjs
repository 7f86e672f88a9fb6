// `pnpm bench`: SimCLR train-step throughput of @ebmjs/models' convEncoder and ResNet-18 (CIFAR
// stem) on the tfjs backends available in Node, and the exported encoders' inference throughput
// on onnxruntime-node, onnxruntime-web (wasm) and tfjs-wasm, each against PyTorch on the CPU
// with equal threads.
//
//   node bench/run.mjs [--json] [--out results.json] [--quick] [--parts train,infer,serve]
//                      [--nets conv,resnet18] [--conv-batches 256,64] [--resnet-batches 16]
//                      [--infer-batches 64,1] [--infer-runs 20] [--threads 1,2]
//                      [--runs 5] [--warmup 2] [--rounds 1] [--with-cpu] [--profile]
//                      [--no-ort] [--ort-only]
//                      [--backend wasm|webgpu]
//
// --backend webgpu: the train-step rows on tfjs-webgpu (Dawn in Node, bench/gpu-check.mjs's step)
// instead of wasm and PyTorch, with the adapter in the table; a software adapter's rows (SwiftShader:
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium)
// are marked "software adapter — not a speed claim".
//
// Every measurement runs in a fresh process (tfjs's wasm backend starts once per process, with
// one thread count), tfjs and PyTorch alternating config by config so both see the same machine
// load. Reported: median step time of `runs` steps after `warmup` steps, images/s = batch / step
// (each image contributes two views, so the encoder sees 2·batch inputs per step).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runJsonChild as runChild } from './child.mjs';

const { values: opt } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    nets: { type: 'string', default: 'conv,resnet18' },
    'conv-batches': { type: 'string', default: '256,64' },
    // ResNet-18 at 64 and 256 does not fit tfjs-wasm's memory (see README/RESULTS): 16 does.
    'resnet-batches': { type: 'string', default: '16' },
    parts: { type: 'string', default: 'train,infer,serve' },
    'infer-batches': { type: 'string', default: '64,1' },
    'infer-runs': { type: 'string', default: '20' },
    threads: { type: 'string' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    'with-cpu': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
    backend: { type: 'string', default: 'wasm' },
    // The onnxruntime-node rows (ebm.js's compiled training step): skip them, or run only them.
    'no-ort': { type: 'boolean', default: false },
    'ort-only': { type: 'boolean', default: false },
  },
});

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const log = (line) => process.stderr.write(`${line}\n`);
const cores = os.availableParallelism?.() ?? os.cpus().length;
const runs = Number(opt.runs);
const warmup = Number(opt.warmup);
const rounds = Math.max(1, Number(opt.rounds));
if (!(runs >= 5) && !opt.quick)
  log(`note: --runs ${runs} is below the 5 the results table asks for`);
const threadCounts = (opt.threads ?? (cores >= 2 ? '1,2' : '1')).split(',').map(Number);
const nets = opt.quick ? ['conv'] : opt.nets.split(',');
const parts = opt.parts.split(',');
const inferRuns = opt.quick ? runs : Number(opt['infer-runs']);
const inferBatches = opt.quick ? [64] : opt['infer-batches'].split(',').map(Number);
const INFER_RUNTIMES = ['ort-node', 'ort-web', 'tfjs-wasm'];
const batchesOf = (net) =>
  opt.quick ? [64] : opt[net === 'conv' ? 'conv-batches' : 'resnet-batches'].split(',').map(Number);
// Seconds with 3 significant digits (batch-1 inference steps take well under a millisecond).
const secs3 = (x) => (x >= 1 ? x.toFixed(3) : x.toPrecision(3));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------- machine and PyTorch
const machine = {
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  nproc: cores,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  loadAverageStart: os.loadavg().map((x) => Number(x.toFixed(2))),
};
let torch = { available: false, note: '' };
try {
  const v = execFileSync(opt.python, ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  torch = { available: true, version: v, note: '' };
} catch {
  torch.note = `PyTorch skipped: ${opt.python} cannot import torch (Debian: apt-get install python3-torch libopenblas0-pthread)`;
  log(torch.note);
}

const tfjsRun = (net, batch, backend, kernels, threads, extra = []) =>
  runChild(
    process.execPath,
    [
      here('./tfjs-step.mjs'),
      `--net=${net}`,
      `--batch=${batch}`,
      `--backend=${backend}`,
      `--kernels=${kernels}`,
      `--threads=${threads}`,
      `--runs=${runs}`,
      `--warmup=${warmup}`,
      ...extra,
    ],
    40 * 60_000,
  );

// ebm.js's SimCLR step compiled to one ONNX graph, on onnxruntime-node (issue 17, stage 1).
const ortTrainRun = (net, batch, threads, extra = []) =>
  runChild(
    process.execPath,
    [
      here('./ort-step.mjs'),
      `--net=${net}`,
      `--batch=${batch}`,
      `--threads=${threads}`,
      `--runs=${runs}`,
      `--warmup=${warmup}`,
      ...extra,
    ],
    40 * 60_000,
  );

const torchRun = (net, batch, threads, mode = 'train') =>
  runChild(
    opt.python,
    [
      here('./torch_bench.py'),
      `--mode=${mode}`,
      `--net=${net === 'conv' ? 'conv' : 'resnet18'}`,
      `--batch=${batch}`,
      `--threads=${threads}`,
      `--runs=${mode === 'infer' ? inferRuns : runs}`,
      `--warmup=${warmup}`,
    ],
    40 * 60_000,
  );

const inferRun = (net, batch, runtime, threads) =>
  runChild(
    process.execPath,
    [
      here('./infer-step.mjs'),
      `--net=${net}`,
      `--batch=${batch}`,
      `--runtime=${runtime}`,
      `--threads=${threads}`,
      `--runs=${inferRuns}`,
      `--warmup=${warmup}`,
    ],
    20 * 60_000,
  );

// ---------------------------------------------------------------- the measurements
const rows = [];
const skipped = [];
/** One result from several rounds: step times concatenated, the last round's extras. */
const pool = (results) => {
  const failed = results.find((r) => r.error);
  if (failed) return failed;
  const last = results.at(-1);
  return {
    ...last,
    stepSeconds: results.flatMap((r) => r.stepSeconds),
    stepCpuSeconds: results.flatMap((r) => r.stepCpuSeconds ?? []),
    losses: results[0].losses,
    rounds: results.length,
  };
};

const record = (config, r) => {
  const row = { ...config };
  if (r.error) row.error = r.error;
  else {
    row.stepSeconds = r.stepSeconds;
    row.rounds = r.rounds ?? 1;
    row.medianStepSeconds = median(r.stepSeconds);
    if (r.params !== undefined) row.params = r.params;
    row.imagesPerSecond = config.batch / row.medianStepSeconds;
    if (r.stepCpuSeconds?.length) {
      row.stepCpuSeconds = r.stepCpuSeconds;
      row.medianStepCpuSeconds = median(r.stepCpuSeconds);
      row.imagesPerCpuSecond = config.batch / row.medianStepCpuSeconds;
    }
    row.threadsUsed = r.threads;
    row.firstLoss = r.losses?.[0];
    row.lastLoss = r.losses?.at(-1);
    if (r.profile) row.profile = r.profile;
    if (r.nets) row.nets = r.nets;
    if (r.version) row.version = r.version;
    if (r.firstValue !== undefined) row.firstOutputValue = r.firstValue;
  }
  rows.push(row);
  const what = `${config.part} ${config.net}@${config.batch} ${config.runtime} ${config.threads}t`;
  log(
    row.error
      ? `  ${what}: ${row.error}`
      : `  ${what}: ${secs3(row.medianStepSeconds)} s/step, ${row.imagesPerSecond.toFixed(1)} img/s`,
  );
  return row;
};

const webgpuAdapters = [];
if (parts.includes('train') && opt.backend === 'webgpu') {
  for (const net of nets) {
    for (const batch of batchesOf(net)) {
      log(`${net} batch ${batch} on webgpu`);
      const r = runChild(
        process.execPath,
        [
          here('./gpu-check.mjs'),
          '--child=step',
          '--backend=webgpu',
          `--net=${net}`,
          `--batch=${batch}`,
          `--runs=${runs}`,
          `--warmup=${warmup}`,
        ],
        40 * 60_000,
      );
      const runtime = r.adapter?.software
        ? 'tfjs-webgpu (software adapter — not a speed claim)'
        : 'tfjs-webgpu';
      const row = record({ part: 'train', net, batch, runtime, threads: '-' }, r);
      if (r.adapter) {
        row.adapter = r.adapter;
        const a = `${r.adapter.vendor} ${r.adapter.architecture} (${r.adapter.description})${r.adapter.software ? ', software adapter — not a speed claim' : ''}`;
        if (!webgpuAdapters.includes(a)) webgpuAdapters.push(a);
      }
    }
  }
} else if (parts.includes('train')) {
  for (const net of nets) {
    const batches = batchesOf(net);
    if (net === 'resnet18' && !batches.some((b) => b >= 64)) {
      skipped.push(
        'resnet18@256 and @64: not run by default: tfjs-wasm has a 32-bit heap (its glue breaks past 2 GiB) and ResNet-18 needs a 1453 MiB heap at batch 16, 2457 MiB at 32 (measured); batch 64 fails with "memory access out of bounds". Try with --resnet-batches 64',
      );
    }
    for (const batch of batches) {
      log(`${net} batch ${batch}`);
      for (const threads of threadCounts) {
        // Rounds alternate PyTorch and tfjs so a load change on a shared machine hits both;
        // the step times of all rounds are pooled before taking the median.
        const torchRuns = [];
        const tfjsRuns = [];
        const ortRuns = [];
        // Both nets compile into the step graph (resnet18 since issue 17 stage 2).
        const withOrt = (net === 'conv' || net === 'resnet18') && !opt['no-ort'];
        for (let round = 0; round < rounds; round++) {
          if (torch.available) torchRuns.push(torchRun(net, batch, threads));
          const extra = opt.profile && round === rounds - 1 ? ['--profile'] : [];
          if (withOrt) ortRuns.push(ortTrainRun(net, batch, threads, extra));
          if (!opt['ort-only']) tfjsRuns.push(tfjsRun(net, batch, 'wasm', 'ebm', threads, extra));
        }
        if (torch.available)
          record({ part: 'train', net, batch, runtime: 'pytorch', threads }, pool(torchRuns));
        if (withOrt)
          record(
            { part: 'train', net, batch, runtime: 'ort-node step graph', threads },
            pool(ortRuns),
          );
        if (!opt['ort-only'])
          record({ part: 'train', net, batch, runtime: 'tfjs-wasm+ebm', threads }, pool(tfjsRuns));
      }
      // tfjs's wasm kernels with only the missing ones added (what tfjs alone would do), 1 thread.
      if (net === 'conv' && batch === Math.min(...batches)) {
        record(
          { part: 'train', net, batch, runtime: 'tfjs-wasm+missing-only', threads: 1 },
          tfjsRun(net, batch, 'wasm', 'minimal', 1),
        );
      }
      if (net === 'conv' && batch === Math.min(...batches)) {
        const r = tfjsRun(net, batch, 'wasm', 'none', 1, ['--runs=1', '--warmup=0']);
        rows.push({
          part: 'train',
          net,
          batch,
          runtime: 'tfjs-wasm (as shipped)',
          threads: 1,
          error: r.error ?? 'trained?!',
        });
        log(`  tfjs-wasm as shipped: ${r.error ?? 'trained'}`);
      }
      if (opt['with-cpu'] && net === 'conv' && batch === Math.min(...batches)) {
        record(
          { part: 'train', net, batch, runtime: 'tfjs-cpu', threads: 1 },
          tfjsRun(net, batch, 'cpu', 'ebm', 1),
        );
      } else if (net === 'conv' && batch === Math.min(...batches)) {
        skipped.push(
          `tfjs-cpu: not run by default (pure JS, minutes per step at these sizes; add --with-cpu for conv@${batch})`,
        );
      }
    }
  }
}

if (parts.includes('infer')) {
  // The encoder alone (no head), exported for ORT; see bench/infer-step.mjs.
  for (const net of nets) {
    for (const batch of inferBatches) {
      log(`inference ${net} batch ${batch}`);
      for (const threads of threadCounts) {
        const results = new Map([...INFER_RUNTIMES, 'pytorch'].map((k) => [k, []]));
        for (let round = 0; round < rounds; round++) {
          if (torch.available) results.get('pytorch').push(torchRun(net, batch, threads, 'infer'));
          for (const runtime of INFER_RUNTIMES)
            results.get(runtime).push(inferRun(net, batch, runtime, threads));
        }
        for (const [runtime, rs] of results) {
          if (rs.length) record({ part: 'infer', net, batch, runtime, threads }, pool(rs));
        }
      }
    }
  }
}
// `serve`: ebm serve under load (autocannon on loopback) against in-process extract(), in its own
// process; see bench/serve-load.mjs.
let serveLoad;
if (parts.includes('serve')) {
  log('ebm serve load test (bench/serve-load.mjs)');
  const quick = opt.quick ? ['--requests', '300', '--soak', '1000'] : [];
  const res = spawnSync(
    process.execPath,
    ['--expose-gc', here('serve-load.mjs'), '--json', ...quick],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 900_000,
    },
  );
  serveLoad = res.status === 0 ? JSON.parse(res.stdout) : { error: `exit ${res.status}` };
}
skipped.push(
  'tfjs-node / tfjs-node-gpu: not installable here (their install downloads libtensorflow); not measured',
);
if (opt.backend !== 'webgpu')
  skipped.push('webgl: a browser backend; webgpu: run with --backend webgpu (Dawn in Node)');

// ---------------------------------------------------------------- ratios and output
for (const row of rows) {
  if (row.runtime === 'pytorch' || row.imagesPerSecond === undefined) continue;
  const ref = rows.find(
    (r) =>
      r.runtime === 'pytorch' &&
      r.part === row.part &&
      r.net === row.net &&
      r.batch === row.batch &&
      r.threads === row.threads &&
      r.imagesPerSecond,
  );
  if (ref) {
    row.ratioVsPytorch = row.imagesPerSecond / ref.imagesPerSecond;
    if (row.imagesPerCpuSecond && ref.imagesPerCpuSecond) {
      row.cpuTimeRatioVsPytorch = row.imagesPerCpuSecond / ref.imagesPerCpuSecond;
    }
  }
}
machine.loadAverageEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
const report = {
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine,
  pytorch: torch,
  method: {
    step: 'SimCLR: two views → one batch of 2·B through encoder + projection head (BatchNorm in training mode), NT-Xent (τ = 0.5), Adam 1e-3',
    input: '32×32×3, random uniform views (no augmentation cost)',
    runs,
    warmup,
    rounds,
    imagesPerSecond: 'batch / median step time',
    inference:
      'the encoder alone (no head, BatchNorm in inference mode) on one batch of 32×32×3 images, output read back: ORT runs the @ebmjs/export model (NCHW) through @ebmjs/web-infer FeatureExtractor (normalize off); tfjs-wasm the tfjs model (NHWC); PyTorch eval() under inference_mode (NCHW)',
    inferRuns,
  },
  results: rows,
  ...(serveLoad ? { serve: serveLoad } : {}),
  skipped,
};

const pad = (s, n) => String(s).padEnd(n);
const lines = [
  `machine: ${machine.cpuModel}, ${machine.nproc} CPUs, Node ${machine.node}; load ${machine.loadAverageStart.join(' ')} → ${machine.loadAverageEnd.join(' ')}`,
  torch.available ? `PyTorch ${torch.version} (${opt.python})` : torch.note,
  ...webgpuAdapters.map((a) => `WebGPU adapter: ${a}`),
];
for (const r of rows) {
  if (r === rows.find((x) => x.part === r.part)) {
    lines.push(
      '',
      r.part === 'train' ? 'SimCLR train step:' : 'Inference (encoder forward pass):',
      `${pad('net', 10)}${pad('batch', 7)}${pad('runtime', 26)}${pad('threads', 9)}${pad('s/step', 10)}${pad('img/s', 10)}${pad('vs PyTorch', 12)}${pad('CPU s/step', 12)}vs PyTorch (CPU time)`,
    );
  }
  lines.push(
    r.error
      ? `${pad(r.net, 10)}${pad(r.batch, 7)}${pad(r.runtime, 26)}${pad(r.threads, 9)}(${r.error.slice(0, 100)})`
      : `${pad(r.net, 10)}${pad(r.batch, 7)}${pad(r.runtime, 26)}${pad(r.threadsUsed ?? r.threads, 9)}${pad(secs3(r.medianStepSeconds), 10)}${pad(r.imagesPerSecond.toFixed(1), 10)}${pad(r.ratioVsPytorch !== undefined ? `${r.ratioVsPytorch.toFixed(2)}×` : '', 12)}${pad(r.medianStepCpuSeconds === undefined ? '-' : secs3(r.medianStepCpuSeconds), 12)}${r.cpuTimeRatioVsPytorch !== undefined ? `${r.cpuTimeRatioVsPytorch.toFixed(2)}×` : ''}`,
  );
}
if (serveLoad?.results) {
  lines.push('', `ebm serve (POST /v1/embed, one PNG per request; ${serveLoad.model}):`);
  lines.push(
    `${pad('what', 24)}${pad('conc', 6)}${pad('req/s', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}batch sizes (≤size: runs)`,
  );
  for (const r of serveLoad.results) {
    const sizes = Object.entries(r.batchSizes ?? {})
      .filter(([, n]) => n > 0)
      .map(([le, n]) => `≤${le}: ${n}`)
      .join(', ');
    lines.push(
      `${pad(r.what, 24)}${pad(r.concurrency, 6)}${pad(r.perSecond.toFixed(0), 9)}${pad(r.p50ms.toFixed(2), 9)}${pad(r.p99ms.toFixed(2), 9)}${sizes}`,
    );
  }
  const m = serveLoad.memory;
  lines.push(
    `memory over ${m.requests} more requests: RSS ${m.rssMbBefore} → ${m.rssMbAfter} MB, heap ${m.heapMbBefore} → ${m.heapMbAfter} MB`,
  );
} else if (serveLoad) lines.push('', `ebm serve load test failed (${serveLoad.error})`);
lines.push(
  '',
  'img/s = batch / median wall time per step; CPU s/step = CPU time of the process per step (all its',
  'threads), less sensitive to other load on a shared machine; both ratios are ours ÷ PyTorch.',
  '',
  ...skipped.map((s) => `skipped: ${s}`),
);
// ORT and tfjs run the same weights on the same pixels: their first output value must agree.
const inferOutputs = rows.filter((r) => r.part === 'infer' && r.firstOutputValue !== undefined);
if (inferOutputs.some((r) => r.runtime !== 'pytorch')) {
  const spread = Math.max(
    ...nets.flatMap((net) =>
      inferBatches.map((batch) => {
        const v = inferOutputs
          .filter((r) => r.net === net && r.batch === batch && r.runtime !== 'pytorch')
          .map((r) => r.firstOutputValue);
        return v.length ? Math.max(...v) - Math.min(...v) : 0;
      }),
    ),
  );
  lines.push(
    `inference outputs: ORT-node, ORT-web and tfjs-wasm agree to ${spread.toExponential(1)}`,
  );
}
for (const row of rows.filter((r) => r.profile)) {
  if (row.profile.ops) {
    // ORT's profiler (bench/ort-step.mjs): kernel time per op type, averaged over the traced steps.
    lines.push(
      '',
      `profile ${row.net}@${row.batch} ${row.runtime} ${row.threads}t (ORT profiler, ${row.profile.kernelMsPerStep} ms of kernels per step):`,
    );
    for (const k of row.profile.ops.slice(0, 12))
      lines.push(
        `  ${pad(k.name, 24)}${pad(k.msPerStep, 8)}ms  ${pad(`${(k.share * 100).toFixed(1)}%`, 8)}${k.callsPerStep} calls`,
      );
    continue;
  }
  lines.push(
    '',
    `profile ${row.net}@${row.batch} ${row.runtime} ${row.threads}t (one step, ${Math.round(row.profile.stepMs)} ms):`,
  );
  for (const k of row.profile.kernels.slice(0, 12))
    lines.push(`  ${pad(k.name, 24)}${pad(k.ms, 8)}ms  ${k.calls} calls`);
  lines.push(
    `  inside ebm.js kernels: ${row.profile.insideEbmKernels.map((k) => `${k.name} ${k.ms} ms`).join(', ')}`,
  );
}
if (opt.out) writeFileSync(opt.out, `${JSON.stringify(report, null, 2)}\n`);
if (opt.json) {
  log(lines.join('\n'));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  process.stdout.write(`${lines.join('\n')}\n`);
}
if (!existsSync(here('../packages/models/dist/index.js')))
  log('note: @ebmjs/models not built; used bench/nets.mjs');
