// GPU check for ebm.js on WebGPU in Node (issue 16): the adapter, kernel correctness against the
// cpu backend, and SimCLR train-step throughput of convEncoder (batch 256) and ResNet-18 (CIFAR
// stem; batch 64 and 256) on webgpu against tfjs-wasm + ebm.js kernels on 2 threads, measured by
// this same script. Prints one JSON object; meant to finish in under 10 minutes on a GPU machine.
//
//   bash bench/gpu-check.sh [--dry-run] [--swiftshader] [--out results.json]
//                           [--runs 3] [--warmup 2] [--skip-wasm]
//
// --dry-run: small batches and 16×16 images, 2 timed steps (a software adapter's figures are no
// speed claim). --swiftshader: point Vulkan at Chromium's SwiftShader (/usr/lib/chromium), for
// machines without a GPU. On an NVIDIA machine nothing is needed beyond the driver's Vulkan ICD
// (libvulkan1 and the driver's nvidia_icd.json, which the driver packages install).
//
// Every measurement runs in its own process (Dawn and the wasm backend start once per process).
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runJsonChild } from './child.mjs';

const { values: opt } = parseArgs({
  options: {
    child: { type: 'string' },
    backend: { type: 'string', default: 'webgpu' },
    net: { type: 'string', default: 'conv' },
    batch: { type: 'string', default: '64' },
    size: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    swiftshader: { type: 'boolean', default: false },
    'skip-wasm': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const log = (line) => process.stderr.write(`${line}\n`);
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const dry = opt['dry-run'];
const runs = Number(opt.runs ?? (dry ? 2 : 3));
const warmup = Number(opt.warmup ?? (dry ? 1 : 2));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

if (opt.child) {
  process.stdout.write(`${JSON.stringify(await child(opt.child))}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------- parent: the plan
const size = dry ? 16 : 32;
const plan = dry
  ? [
      { net: 'conv', batch: 8 },
      { net: 'resnet18', batch: 4 },
      { net: 'resnet18', batch: 8 },
    ]
  : [
      { net: 'conv', batch: 256 },
      { net: 'resnet18', batch: 64 },
      { net: 'resnet18', batch: 256 },
    ];
// tfjs-wasm's heap is 32-bit: ResNet-18 fails past batch ~16 at 32×32 (bench/RESULTS.md). Its
// wasm figure is taken at this batch and compared per image.
const WASM_RESNET_BATCH = dry ? 4 : 16;
const started = performance.now();
const env = { ...process.env, EBM_BACKEND: '' };
if (opt.swiftshader) {
  if (!existsSync(ICD)) throw new Error(`--swiftshader: no SwiftShader Vulkan ICD at ${ICD}`);
  env.VK_ICD_FILENAMES = ICD;
  env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH]
    .filter(Boolean)
    .join(':');
}
const runChild = (args, timeoutMs) =>
  runJsonChild(process.execPath, [here('./gpu-check.mjs'), ...args], timeoutMs, env);
const common = [`--runs=${runs}`, `--warmup=${warmup}`, `--size=${size}`];

log('adapter and kernels (webgpu vs cpu)');
const kernels = runChild(['--child=kernels', ...(dry ? ['--dry-run'] : [])], 240_000);
log(kernels.error ? `  ${kernels.error}` : `  ${JSON.stringify(kernels.adapter)}`);
const software = kernels.adapter?.software === true;

const results = [];
for (const { net, batch } of plan) {
  log(`webgpu ${net}@${batch}`);
  const r = runChild(
    ['--child=step', '--backend=webgpu', `--net=${net}`, `--batch=${batch}`, ...common],
    240_000,
  );
  results.push(summarise({ runtime: 'webgpu', net, batch }, r));
}
if (!opt['skip-wasm']) {
  const wasmPlan = [
    { net: 'conv', batch: plan[0].batch },
    { net: 'resnet18', batch: WASM_RESNET_BATCH },
  ];
  for (const { net, batch } of wasmPlan) {
    log(`wasm (2 threads) ${net}@${batch}`);
    const r = runChild(
      [
        '--child=step',
        '--backend=wasm',
        '--threads=2',
        `--net=${net}`,
        `--batch=${batch}`,
        `--runs=${dry ? 1 : 2}`,
        '--warmup=1',
        `--size=${size}`,
      ],
      300_000,
    );
    results.push(summarise({ runtime: 'wasm (2 threads)', net, batch }, r));
  }
}
for (const row of results.filter((r) => r.runtime === 'webgpu')) {
  const ref = results.find(
    (r) => r.runtime !== 'webgpu' && r.net === row.net && r.imagesPerSecond !== undefined,
  );
  if (ref && row.imagesPerSecond !== undefined) {
    row.vsWasm2Threads = Number((row.imagesPerSecond / ref.imagesPerSecond).toFixed(2));
    row.wasmReference = `${ref.net}@${ref.batch}`;
  }
}

const report = {
  command: `bash bench/gpu-check.sh ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  dryRun: dry,
  speedClaim: !(dry || software),
  note: software
    ? 'software adapter — not a speed claim (SwiftShader computes on the CPU)'
    : dry
      ? 'dry run: small batches, not the check'
      : 'hardware adapter',
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  adapter: kernels.adapter ?? null,
  kernels: kernels.error ? { error: kernels.error } : kernels.checks,
  kernelsPass: kernels.checks?.every((c) => c.pass) ?? false,
  conv2dBackpropFilter: kernels.backpropFilter ?? null,
  method: {
    step: 'SimCLR: two views → one batch of 2·B through encoder + projection head (BatchNorm in training mode), NT-Xent (τ = 0.5), Adam 1e-3, loss read with await data()',
    input: `${size}×${size}×3 random views`,
    runs,
    warmup,
    imagesPerSecond: 'batch / median step time',
    wasmResNet: `tfjs-wasm cannot hold ResNet-18 past batch ~16 (32-bit heap): its figure is at batch ${WASM_RESNET_BATCH}, compared per image`,
  },
  targets: dry
    ? null
    : {
        'resnet18@256 img/s (H200-class)': '≥ 1000',
        'webgpu vs wasm 2 threads': '≥ 20× for both nets',
      },
  results,
  seconds: Math.round((performance.now() - started) / 1000),
};
const text = `${JSON.stringify(report, null, 2)}\n`;
if (opt.out) writeFileSync(opt.out, text);
process.stdout.write(text);

function summarise(config, r) {
  if (r.error) {
    log(`  ${r.error}`);
    return { ...config, error: r.error };
  }
  const s = median(r.stepSeconds);
  log(`  ${s.toFixed(3)} s/step, ${(config.batch / s).toFixed(1)} img/s`);
  return {
    ...config,
    imageSize: size,
    stepSeconds: r.stepSeconds.map((x) => Number(x.toFixed(4))),
    medianStepSeconds: Number(s.toFixed(4)),
    imagesPerSecond: Number((config.batch / s).toFixed(1)),
    losses: r.losses.map((x) => Number(x.toFixed(5))),
    threads: r.threads,
    nets: r.nets,
  };
}

// ---------------------------------------------------------------- children
async function loadStack() {
  const tf = await import('@tensorflow/tfjs-core');
  // @ebmjs/core's Node entry registers tfjs's op gradients (from the @tensorflow/tfjs bundle).
  const coreDist = new URL('../packages/core/dist/index.js', import.meta.url);
  if (!existsSync(coreDist))
    throw new Error('packages/core/dist is missing: bench/gpu-check.sh builds it');
  await import(coreDist.href);
  const backendsDist = new URL('../packages/backends/dist/index.js', import.meta.url);
  if (!existsSync(backendsDist))
    throw new Error('packages/backends/dist is missing: bench/gpu-check.sh builds it');
  const backends = await import(backendsDist.href);
  const modelsDist = new URL('../packages/models/dist/index.js', import.meta.url);
  const models = existsSync(modelsDist)
    ? await import(modelsDist.href)
    : await import('./nets.mjs');
  return {
    tf,
    backends,
    models,
    nets: existsSync(modelsDist) ? '@ebmjs/models' : 'bench/nets.mjs',
  };
}

async function child(mode) {
  try {
    const { tf, backends, models, nets } = await loadStack();
    if (mode === 'step') return await stepChild(tf, backends, models, nets);
    return await kernelsChild(tf, backends);
  } catch (error) {
    if (process.env.GPU_CHECK_DEBUG) console.error(error);
    return { error: (error instanceof Error ? error.message : String(error)).split('\n')[0] };
  }
}

async function stepChild(tf, backends, models, nets) {
  const info = await backends.selectBackend({
    backend: opt.backend,
    threads: Number(opt.threads),
    env: {},
  });
  const { ntXent } = await import('./simclr.mjs');
  const batch = Number(opt.batch);
  const inputShape = [Number(opt.size), Number(opt.size), 3];
  const encoder =
    opt.net === 'conv'
      ? models.convEncoder({ inputShape })
      : models.resnet18({ inputShape, stem: 'cifar' });
  const head = models.projectionHead({ inputDim: encoder.embeddingDim });
  const input = tf.randomUniform([2 * batch, ...inputShape], 0, 1, 'float32', 1);
  const mask = tf.mul(tf.eye(2 * batch), 1e9);
  const optimizer = tf.train.adam(1e-3);
  const varList = [...encoder.model.trainableWeights, ...head.model.trainableWeights].map((w) =>
    w.read(),
  );
  const stepSeconds = [];
  const losses = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t = performance.now();
    const loss = optimizer.minimize(
      () => {
        const z = head.model.apply(encoder.model.apply(input, { training: true }), {
          training: true,
        });
        const [z1, z2] = tf.split(z, 2, 0);
        return ntXent(z1, z2, 0.5, mask);
      },
      true,
      varList,
    );
    // The async read waits for the GPU to finish the step (webgpu has no dataSync in Node).
    losses.push((await loss.data())[0]);
    loss.dispose();
    if (i >= warmup) stepSeconds.push((performance.now() - t) / 1000);
  }
  return { stepSeconds, losses, threads: info.threads, adapter: info.adapter, nets };
}

async function kernelsChild(tf, backends) {
  const info = await backends.selectBackend({ backend: 'webgpu', env: {} });
  const n = dry ? 2 : 8;
  const s = dry ? 8 : 16;
  const seeded = (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const cases = {
    'conv2d 3×3 same': () => [
      tf.conv2d(seeded([n, s, s, 16], 1), seeded([3, 3, 16, 32], 2), 1, 'same'),
    ],
    'conv2d 3×3 stride 2 + dx, dW (ebm.js Conv2DBackpropFilter)': () => {
      const x = seeded([n, s, s, 16], 3);
      const w = seeded([3, 3, 16, 32], 4);
      const f = (a, b) => tf.sum(tf.square(tf.conv2d(a, b, 2, 'same')));
      return [tf.conv2d(x, w, 2, 'same'), ...tf.grads(f)([x, w])];
    },
    'conv2d 1×1 stride 2 (ResNet shortcut) dW': () => {
      const x = seeded([n, s, s, 16], 5);
      const w = seeded([1, 1, 16, 32], 6);
      return tf.grads((a, b) => tf.sum(tf.square(tf.conv2d(a, b, 2, 'valid'))))([x, w]);
    },
    'batchNorm (batch statistics) + relu + maxPool grads': () => {
      const x = seeded([n, s, s, 8], 7);
      // tfjs-core's FusedBatchNorm gradient needs both scale and offset.
      const f = (a, g, b) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        const y = tf.relu(tf.batchNorm(a, mean, variance, b, g, 1e-3));
        return tf.sum(tf.mul(tf.maxPool(y, 2, 2, 'same'), 0.7));
      };
      return tf.grads(f)([x, tf.ones([8]), tf.zeros([8])]);
    },
    'matMul + softmax + logSumExp grads': () => {
      const a = seeded([64, 128], 8);
      const b = seeded([128, 32], 9);
      const f = (p, q) => tf.sum(tf.logSumExp(tf.softmax(tf.matMul(p, q)), 1));
      return [tf.matMul(a, b), ...tf.grads(f)([a, b])];
    },
  };
  const read = (outs) => Promise.all(outs.map(async (t) => Array.from(await t.data())));
  const checks = [];
  for (const [name, fn] of Object.entries(cases)) {
    await tf.setBackend('webgpu');
    const gpuOut = tf.tidy(fn);
    const got = await read(gpuOut);
    tf.dispose(gpuOut);
    await tf.setBackend('cpu');
    const cpuOut = tf.tidy(fn);
    const ref = await read(cpuOut);
    tf.dispose(cpuOut);
    const relErrors = ref.map((r, i) => {
      const scale = Math.max(...r.map(Math.abs), 1e-30);
      let diff = 0;
      for (let j = 0; j < r.length; j++) {
        const d = Math.abs(got[i][j] - r[j]);
        if (!(d <= diff)) diff = d;
      }
      return diff / scale;
    });
    const worst = Math.max(...relErrors);
    checks.push({ name, maxRelError: Number(worst.toExponential(2)), pass: worst <= 1e-4 });
  }
  await tf.setBackend('webgpu');
  // ebm.js's Conv2DBackpropFilter (im2col matmuls) against tfjs-webgpu's (one thread per weight).
  const shape = dry ? [4, 16, 16, 32] : [64, 32, 32, 64];
  const x = seeded(shape, 10);
  const dy = seeded(shape, 11);
  const attrs = {
    strides: 1,
    pad: 'same',
    dataFormat: 'NHWC',
    filterShape: [3, 3, shape[3], shape[3]],
  };
  const timeIt = async () => {
    const ms = [];
    let out;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      out = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs);
      await out.data();
      ms.push(performance.now() - t);
      if (i < 2) out.dispose();
    }
    return { ms: median(ms.slice(1)), out };
  };
  const ours = await timeIt();
  backends.unregisterWebGPUTrainingKernels();
  const theirs = await timeIt();
  backends.registerWebGPUTrainingKernels();
  const a = await ours.out.data();
  const b = await theirs.out.data();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  tf.dispose([x, dy, ours.out, theirs.out]);
  return {
    adapter: info.adapter ?? null,
    checks,
    backpropFilter: {
      shape: `x ${shape.join('×')}, filter 3×3×${shape[3]}×${shape[3]}, stride 1 same`,
      ebmMs: Number(ours.ms.toFixed(1)),
      tfjsWebgpuMs: Number(theirs.ms.toFixed(1)),
      speedup: Number((theirs.ms / ours.ms).toFixed(2)),
      relDifference: Number((diff / scale).toExponential(2)),
    },
  };
}
