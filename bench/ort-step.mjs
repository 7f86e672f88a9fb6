// One onnxruntime-node measurement of ebm.js's compiled SimCLR training step (issue 17, stage 1):
// the same nets, step and optimizer as bench/tfjs-step.mjs and bench/torch_bench.py, compiled by
// @ebmjs/export's experimental buildSimclrStep into ONE ONNX graph, one session.run per step.
// Run by bench/run.mjs; prints one JSON object on stdout.
//   node bench/ort-step.mjs --net conv --batch 256 --threads 1 [--profile]
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { measure } from './measure.mjs';
import * as nets from './nets.mjs';

const { values: opt } = parseArgs({
  options: {
    net: { type: 'string', default: 'conv' },
    batch: { type: 'string', default: '64' },
    size: { type: 'string', default: '32' },
    channels: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    // ORT's graph optimisation level ('all' adds the NCHWc layout transformer: slower here).
    'opt-level': { type: 'string', default: 'extended' },
  },
});

const exportDist = new URL('../packages/export/dist/index.js', import.meta.url);
const modelsDist = new URL('../packages/models/dist/index.js', import.meta.url);
if (!existsSync(exportDist)) {
  throw new Error('packages/export/dist is missing: run `pnpm bench` (it builds export first).');
}
const { experimental } = await import(exportDist.href);
// onnxruntime-node is @ebmjs/export's devDependency (the package itself never imports it).
const requireFromExport = createRequire(
  new URL('../packages/export/package.json', import.meta.url),
);
const ort = requireFromExport('onnxruntime-node');

const batch = Number(opt.batch);
const threads = Number(opt.threads);
const inputShape = [Number(opt.size), Number(opt.size), Number(opt.channels)];
const result = {
  framework: 'onnxruntime-node',
  version: ort.env.versions?.common,
  net: opt.net,
  batch,
  inputShape,
  threads,
  graphOptimizationLevel: opt['opt-level'],
};

try {
  await tf.setBackend('cpu');
  const models = existsSync(modelsDist) ? await import(modelsDist.href) : undefined;
  result.nets = models ? '@ebmjs/models' : 'bench/nets.mjs';
  const encoder =
    opt.net === 'conv'
      ? (models ?? nets).convEncoder({ inputShape })
      : (models ?? nets).resnet18({ inputShape, stem: 'cifar' });
  // bench/nets.mjs's head takes (inputDim) and returns the model itself.
  const head = models
    ? models.projectionHead({ inputDim: encoder.embeddingDim })
    : { model: nets.projectionHead(encoder.embeddingDim) };
  const t0 = performance.now();
  const graph = await experimental.buildSimclrStep(encoder.model, head.model, {
    batchSize: batch,
    temperature: 0.5,
  });
  result.compileSeconds = (performance.now() - t0) / 1000;
  result.params = graph.state
    .filter((s) => s.kind === 'weight')
    .reduce((n, s) => n + s.dims.reduce((a, d) => a * d, 1), 0);
  result.graphBytes = graph.model.length;
  const prefix = join(tmpdir(), `ebm-ort-step-${process.pid}`);
  const engine = await experimental.OrtTrainingEngine.create(ort, graph, {
    threads,
    graphOptimizationLevel: opt['opt-level'],
    ...(opt.profile ? { profileFilePrefix: prefix } : {}),
  });
  // Random uniform views in NCHW (ORT's conv layout), like the other runtimes' random views.
  const size = graph.viewDims.reduce((a, d) => a * d, 1);
  const v1 = tf.randomUniform([size], 0, 1, 'float32', 1).dataSync();
  const v2 = tf.randomUniform([size], 0, 1, 'float32', 2).dataSync();
  const step = async () => (await engine.step(v1, v2, 1e-3)).loss;
  const timed = await measure(step, { runs: Number(opt.runs), warmup: Number(opt.warmup) });
  result.stepSeconds = timed.seconds;
  result.stepCpuSeconds = timed.cpuSeconds;
  result.losses = timed.values;
  result.preallocatedOutputs = engine.preallocatedOutputs;
  if (opt.profile) {
    // ORT's profiler traced every step (warm-up included): per-op kernel time of the timed ones.
    engine.endProfiling();
    const file = readdirPrefix(prefix);
    const events = JSON.parse(readFileSync(file, 'utf8'));
    rmSync(file);
    const byOp = new Map();
    let total = 0;
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? 'unknown';
      const x = byOp.get(op) ?? { us: 0, calls: 0 };
      x.us += e.dur;
      x.calls++;
      byOp.set(op, x);
      total += e.dur;
    }
    const steps = Number(opt.runs) + Number(opt.warmup);
    // Averaged over every traced step, the first (slower: allocations) included.
    result.profile = {
      stepsTraced: steps,
      kernelMsPerStep: Math.round(total / steps / 1000),
      ops: [...byOp.entries()]
        .map(([name, x]) => ({
          name,
          msPerStep: Math.round(x.us / steps / 1000),
          callsPerStep: x.calls / steps,
          share: Number((x.us / total).toFixed(3)),
        }))
        .sort((a, b) => b.msPerStep - a.msPerStep),
    };
  }
  await engine.release();
} catch (error) {
  result.error = (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
process.stdout.write(`${JSON.stringify(result)}\n`);

/** The trace ORT wrote for `prefix` (it appends a timestamp). */
function readdirPrefix(prefix) {
  const dir = tmpdir();
  const base = prefix.slice(dir.length + 1);
  const match = readdirSync(dir).find((f) => f.startsWith(base) && f.endsWith('.json'));
  if (match === undefined) throw new Error(`no ORT profile file ${prefix}*.json`);
  return join(dir, match);
}
