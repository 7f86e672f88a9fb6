// One tfjs measurement, in its own process (the wasm backend starts once per process, with one
// thread count). Run by bench/run.mjs; prints one JSON object on stdout.
//   node bench/tfjs-step.mjs --net conv --batch 256 --backend wasm --kernels ebm --threads 2
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { measure } from './measure.mjs';
import * as nets from './nets.mjs';
import { makeSimclrStep } from './simclr.mjs';

const { values: opt } = parseArgs({
  options: {
    net: { type: 'string', default: 'conv' },
    batch: { type: 'string', default: '64' },
    size: { type: 'string', default: '32' },
    channels: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    // ebm: every ebm.js kernel; minimal: only the kernels wasm lacks (stock tfjs otherwise);
    // none: tfjs-backend-wasm as shipped.
    kernels: { type: 'string', default: 'ebm' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
  },
});

const coreDist = new URL('../packages/core/dist/index.js', import.meta.url);
const modelsDist = new URL('../packages/models/dist/index.js', import.meta.url);
if (!existsSync(coreDist)) {
  throw new Error(
    'packages/core/dist is missing: run `pnpm bench` (it builds core and models first).',
  );
}
const core = await import(coreDist.href);

const batch = Number(opt.batch);
const inputShape = [Number(opt.size), Number(opt.size), Number(opt.channels)];
const result = {
  framework: 'tfjs',
  backend: opt.backend,
  kernels: opt.backend === 'wasm' ? opt.kernels : null,
  net: opt.net,
  batch,
  inputShape,
};

try {
  const info = await core.selectBackend({
    backend: opt.backend,
    threads: Number(opt.threads),
    env: {},
  });
  result.threads = info.threads;
  result.notes = info.notes;
  if (opt.backend === 'wasm' && opt.kernels !== 'ebm') {
    core.unregisterWasmTrainingKernels();
    if (opt.kernels === 'minimal') {
      for (const k of core.WASM_TRAINING_KERNELS.filter((k) => !k.replaces)) {
        tf.registerKernel({
          kernelName: k.kernelName,
          backendName: 'wasm',
          kernelFunc: k.kernelFunc,
        });
      }
    }
  }

  // The real encoders when @ebmjs/models is built, else the same architectures from nets.mjs.
  const models = existsSync(modelsDist) ? await import(modelsDist.href) : undefined;
  result.nets = models ? '@ebmjs/models' : 'bench/nets.mjs';
  const encoder =
    opt.net === 'conv'
      ? (models ?? nets).convEncoder({ inputShape })
      : (models ?? nets).resnet18({ inputShape, stem: 'cifar' });
  const head = (models ?? nets).projectionHead({ inputDim: encoder.embeddingDim });
  result.parameters = encoder.model.countParams() + head.model.countParams();

  const views = [
    tf.randomUniform([batch, ...inputShape], 0, 1, 'float32', 1),
    tf.randomUniform([batch, ...inputShape], 0, 1, 'float32', 2),
  ];
  const { step, dispose } = makeSimclrStep({ encoder: encoder.model, head: head.model, views });
  const timed = await measure(step, { runs: Number(opt.runs), warmup: Number(opt.warmup) });
  result.stepSeconds = timed.seconds;
  result.stepCpuSeconds = timed.cpuSeconds;
  result.losses = timed.values;
  result.tensorsAfter = tf.memory().numTensors;

  if (opt.profile) {
    const sub = new Map();
    core.observeSubkernels((name, ms) => sub.set(name, (sub.get(name) ?? 0) + ms));
    const start = performance.now();
    const profile = await tf.profile(() => {
      step();
    });
    core.observeSubkernels(undefined);
    const byKernel = new Map();
    for (const k of profile.kernels) {
      // Ops that wrap a kernel (`fusedConv2d__op`) would count its time twice.
      if (k.name.endsWith('__op')) continue;
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += k.kernelTimeMs;
      e.calls++;
      byKernel.set(k.name, e);
    }
    result.profile = {
      stepMs: performance.now() - start,
      kernels: [...byKernel.entries()]
        .map(([name, e]) => ({ name, ms: Math.round(e.ms), calls: e.calls }))
        .sort((a, b) => b.ms - a.ms),
      insideEbmKernels: [...sub.entries()]
        .map(([name, ms]) => ({ name, ms: Math.round(ms) }))
        .sort((a, b) => b.ms - a.ms),
    };
  }
  dispose();
  tf.dispose(views);
} catch (error) {
  result.error = (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
process.stdout.write(`${JSON.stringify(result)}\n`);
