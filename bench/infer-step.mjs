// One inference measurement, in its own process: the encoder's forward pass on a batch, on
// onnxruntime-node (CPU), onnxruntime-web (wasm, in Node) or tfjs-wasm. Run by bench/run.mjs;
// prints one JSON object on stdout.
//   node bench/infer-step.mjs --net conv --batch 256 --runtime ort-node --threads 1
//
// ORT runs the encoder exported by @ebmjs/export (NCHW, the layout ONNX Runtime's CPU kernels
// use; no Transpose nodes) through @ebmjs/web-infer's FeatureExtractor, as a user would: a
// model-ready batch in, one embedding per row out (normalize off, so no extra work is timed).
// tfjs-wasm runs the same tfjs model (NHWC) with ebm.js's wasm kernels and reads the result.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { measure } from './measure.mjs';

const { values: opt } = parseArgs({
  options: {
    net: { type: 'string', default: 'conv' },
    batch: { type: 'string', default: '64' },
    size: { type: 'string', default: '32' },
    channels: { type: 'string', default: '3' },
    runtime: { type: 'string', default: 'ort-node' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
  },
});

const dist = (pkg, file = 'index.js') =>
  new URL(`../packages/${pkg}/dist/${file}`, import.meta.url);
for (const pkg of ['core', 'models', 'export', 'web-infer']) {
  if (!existsSync(dist(pkg, pkg === 'web-infer' ? 'index.node.js' : 'index.js'))) {
    throw new Error(`packages/${pkg}/dist is missing: run \`pnpm bench\` (it builds first).`);
  }
}
const core = await import(dist('core').href);
const models = await import(dist('models').href);

const batch = Number(opt.batch);
const threads = Number(opt.threads);
const [size, channels] = [Number(opt.size), Number(opt.channels)];
const result = { framework: opt.runtime, net: opt.net, batch, inputShape: [size, size, channels] };

try {
  // tfjs builds the encoder (and runs it for tfjs-wasm); for ORT, the cpu backend suffices.
  const info = await core.selectBackend({
    backend: opt.runtime === 'tfjs-wasm' ? 'wasm' : 'cpu',
    threads,
    env: {},
  });
  const inputShape = [size, size, channels];
  const encoder =
    opt.net === 'conv'
      ? models.convEncoder({ inputShape })
      : models.resnet18({ inputShape, stem: 'cifar' });
  result.parameters = encoder.model.countParams();
  // The same pixels for every runtime (NHWC here, transposed for ORT's NCHW), so every
  // runtime's first output value must agree: run.mjs prints them side by side.
  const values = new Float32Array(batch * size * size * channels);
  for (let i = 0; i < values.length; i++) values[i] = ((i * 7919) % 1000) / 1000;

  let run;
  let dispose;
  if (opt.runtime === 'tfjs-wasm') {
    result.threads = info.threads;
    const x = tf.tensor4d(values, [batch, size, size, channels]);
    run = async () => {
      const y = encoder.model.predict(x);
      const data = await y.data();
      y.dispose();
      return data[0];
    };
    dispose = () => x.dispose();
  } else {
    const { exportOnnx } = await import(dist('export').href);
    const { FeatureExtractor } = await import(dist('web-infer', 'index.node.js').href);
    const bytes = await exportOnnx(encoder.model, { layout: 'NCHW' });
    result.layout = 'NCHW';
    result.modelBytes = bytes.length;
    const extractor = await FeatureExtractor.create(bytes, {
      device: opt.runtime === 'ort-node' ? 'cpu' : 'wasm',
      threads,
      batchSize: batch,
      normalize: false,
    });
    result.threads = threads;
    result.device = extractor.device;
    const nchw = new Float32Array(values.length);
    const plane = size * size;
    for (let n = 0; n < batch; n++)
      for (let p = 0; p < plane; p++)
        for (let c = 0; c < channels; c++)
          nchw[(n * channels + c) * plane + p] = values[(n * plane + p) * channels + c];
    const input = { data: nchw, dims: [batch, channels, size, size] };
    run = async () => (await extractor.extract(input))[0][0];
    dispose = () => extractor.dispose();
  }
  const timed = await measure(run, { runs: Number(opt.runs), warmup: Number(opt.warmup) });
  result.stepSeconds = timed.seconds;
  result.stepCpuSeconds = timed.cpuSeconds;
  result.firstValue = timed.values[0];
  await dispose();
  encoder.model.dispose();
} catch (error) {
  result.error = (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
process.stdout.write(`${JSON.stringify(result)}\n`);
// onnxruntime-web's wasm worker threads would keep the process alive.
process.exit(0);
