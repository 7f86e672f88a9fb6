// The whole mission in one tab: train the default ConvNet with SimCLR on an MNIST subset on
// WebGPU (wasm when the browser offers no adapter), draw the loss as it falls, export the
// trained encoder to ONNX, and search the test digits with it on onnxruntime-web.
// Query parameters: ?steps=40&batch=32&lr=0.003&seed=0&channels=32,64,128&train=2048
// &backend=auto|webgpu|wasm&embed=wasm|webgpu|auto&gallery=256&queries=8&k=5.
// Results for tests: window.__ebm (live) and window.__ebmDone (a promise of it).
import { selectBackend } from '@ebmjs/backends';
import { setFiniteChecks } from '@ebmjs/core';
import { exportOnnx } from '@ebmjs/export';
import { convEncoder } from '@ebmjs/models';
import { trainSimCLR } from '@ebmjs/train';
import { configureRuntime, EmbeddingIndex, FeatureExtractor } from '@ebmjs/web-infer';
import * as tf from '@tensorflow/tfjs-core';

const params = new URLSearchParams(location.search);
const int = (name, fallback) => (params.has(name) ? Number(params.get(name)) : fallback);
const settings = {
  steps: int('steps', 40),
  batchSize: int('batch', 32),
  learningRate: int('lr', 3e-3),
  seed: int('seed', 0),
  // convEncoder's filters per block; the default is the default ConvNet's.
  channels: (params.get('channels') ?? '32,64,128').split(',').map(Number),
  // Training images used: the first `train` of the subset file.
  train: int('train', Number.POSITIVE_INFINITY),
  backend: params.get('backend') ?? 'auto',
  embed: params.get('embed') ?? 'wasm',
  gallery: int('gallery', 256),
  queries: int('queries', 8),
  k: int('k', 5),
};

/** What the page did, live; the browser test reads it (and `window.__ebmDone`). */
const state = {
  state: 'loading',
  settings,
  backend: null,
  attempts: [],
  adapter: null,
  losses: [],
  stepMs: [],
  timings: {},
};
window.__ebm = state;

const $ = (id) => document.getElementById(id);
function setStatus(text, s) {
  const el = $('status');
  el.textContent = text;
  el.dataset.state = s;
  state.state = s;
}

function info(rows) {
  $('backend-info').replaceChildren(
    ...Object.entries(rows).flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

/** mnist-subset.bin, written by build.mjs: header "MNS1", counts, then pixels and labels. */
async function loadMnistSubset() {
  const buf = new Uint8Array(await (await fetch('./mnist-subset.bin')).arrayBuffer());
  const view = new DataView(buf.buffer);
  const magic = String.fromCharCode(...buf.subarray(0, 4));
  if (magic !== 'MNS1') throw new Error(`mnist-subset.bin: expected magic MNS1, received ${magic}`);
  const [nTrain, nTest, side] = [4, 8, 12].map((o) => view.getUint32(o, true));
  const px = side * side;
  let offset = 16;
  const take = (n) => {
    offset += n;
    return buf.subarray(offset - n, offset);
  };
  const split = (name, n, used = n) => ({
    name,
    imageShape: [side, side, 1],
    pixels: take(n * px).subarray(0, used * px),
    labels: Int32Array.from(take(n).subarray(0, used)),
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  });
  return {
    train: split('mnist-train-subset', nTrain, Math.min(nTrain, settings.train)),
    test: split('mnist-test-subset', nTest),
  };
}

/** Draws the losses so far: a line over the steps planned, the axis labelled with its range. */
function drawLoss(losses, total) {
  const canvas = $('loss');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const pad = 36;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#2a3140';
  ctx.strokeRect(pad, 8, w - pad - 8, h - pad - 8);
  if (losses.length === 0) return;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || 1;
  const x = (i) => pad + ((w - pad - 8) * i) / Math.max(1, total - 1);
  const y = (v) => 8 + (h - pad - 8) * (1 - (v - lo) / span);
  ctx.fillStyle = '#8b93a5';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(hi.toFixed(2), 2, 16);
  ctx.fillText(lo.toFixed(2), 2, h - pad);
  ctx.fillText(`step ${losses.length} / ${total}`, pad, h - 10);
  ctx.strokeStyle = '#6aa6ff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  losses.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.stroke();
}

/** A 28×28 digit on a canvas, with a caption. */
function digit(ds, i, caption) {
  const fig = document.createElement('figure');
  const canvas = document.createElement('canvas');
  const [h, w] = ds.imageShape;
  canvas.width = w;
  canvas.height = h;
  const img = new ImageData(w, h);
  const px = ds.pixels.subarray(i * w * h, (i + 1) * w * h);
  px.forEach((v, j) => img.data.set([v, v, v, 255], j * 4));
  canvas.getContext('2d').putImageData(img, 0, 0);
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  fig.append(canvas, cap);
  return fig;
}

/** Test images [0, n) as a float32 NHWC batch in [0, 1], what the encoder trained on. */
function floatBatch(ds, n) {
  const [h, w, c] = ds.imageShape;
  const data = Float32Array.from(ds.pixels.subarray(0, n * h * w * c), (v) => v / 255);
  return { data, dims: [n, h, w, c] };
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function webgpuAdapter() {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const { vendor, architecture, description } = adapter.info ?? {};
  return { vendor, architecture, description };
}

async function main() {
  const t0 = performance.now();
  // webgpu first (bundled here: selectBackend's default loader is a runtime import), then wasm.
  const backend = await selectBackend({
    ...(settings.backend === 'auto'
      ? { order: ['webgpu', 'wasm'] }
      : { backend: settings.backend }),
    loaders: { webgpu: () => import('@tensorflow/tfjs-backend-webgpu') },
    wasmPaths: new URL('./tfjs-wasm/', location.href).href,
  });
  state.backend = backend.backend;
  state.attempts = backend.attempts;
  if (backend.backend === 'webgpu') {
    state.adapter = await webgpuAdapter();
    // The losses' NaN/Inf scans read a boolean back synchronously: a GPU stall per call, and
    // on SwiftShader Chromium's canvas-based sync readback returns zeros (a false "NaN").
    setFiniteChecks(false);
  }
  const fellBack = backend.attempts.filter((a) => !a.ok);
  info({
    'tfjs backend': `${backend.backend} (${backend.device})`,
    adapter: state.adapter
      ? `${state.adapter.vendor} ${state.adapter.architecture} ${state.adapter.description ?? ''}`
      : '–',
    'fell back from':
      fellBack.length === 0 ? '–' : fellBack.map((a) => `${a.candidate}: ${a.reason}`).join('; '),
    training: `SimCLR, convEncoder (channels ${settings.channels.join(', ')}), batch ${settings.batchSize}, ${settings.steps} steps, Adam ${settings.learningRate}, seed ${settings.seed}`,
  });

  const { train, test } = await loadMnistSubset();
  state.timings.loadMs = performance.now() - t0;
  setStatus(`Training on ${backend.backend}: ${train.labels.length} MNIST digits…`, 'training');
  const encoder = convEncoder({
    inputShape: [28, 28, 1],
    channels: settings.channels,
    seed: settings.seed,
  });
  drawLoss([], settings.steps);
  let last = performance.now();
  const t1 = last;
  const { history } = await trainSimCLR({
    dataset: train,
    encoder,
    batchSize: settings.batchSize,
    epochs: Math.ceil((settings.steps * settings.batchSize) / train.labels.length),
    maxSteps: settings.steps,
    schedule: 'constant',
    optimizer: { name: 'adam', learningRate: settings.learningRate },
    seed: settings.seed,
    callbacks: {
      async onStepEnd(e) {
        const now = performance.now();
        state.losses.push(e.loss);
        state.stepMs.push(now - last);
        last = now;
        drawLoss(state.losses, settings.steps);
        $('train-info').textContent =
          `step ${e.globalStep} / ${settings.steps}: loss ${e.loss.toFixed(4)}, ${e.imagesPerSecond.toFixed(1)} views/s`;
        // Let the page paint the chart between steps.
        await new Promise((r) => setTimeout(r, 0));
      },
    },
  });
  state.timings.trainMs = performance.now() - t1;
  state.epochLoss = history.at(-1)?.loss;

  // The trained encoder, to ONNX, in the page.
  setStatus('Exporting the encoder to ONNX…', 'exporting');
  const t2 = performance.now();
  const onnx = await exportOnnx(encoder.model, { recipe: 'simclr' });
  state.timings.exportMs = performance.now() - t2;
  state.onnxBase64 = base64(onnx);
  state.weights = await Promise.all(
    encoder.model.weights.map(async (w) => ({
      name: w.originalName,
      shape: w.shape,
      base64: base64(new Uint8Array((await w.read().data()).buffer)),
    })),
  );
  $('export-info').textContent =
    `${(onnx.length / 1024).toFixed(1)} KiB, exported in ${state.timings.exportMs.toFixed(0)} ms`;

  // Embeddings from tfjs itself, to show the export computes what was trained.
  const n = Math.min(test.labels.length, settings.queries + settings.gallery);
  const batch = floatBatch(test, n);
  const unit = tf.tidy(() => {
    const x = tf.tensor4d(batch.data.subarray(0, settings.queries * 784), [
      settings.queries,
      28,
      28,
      1,
    ]);
    const e = encoder.model.predict(x);
    return tf.div(e, tf.norm(e, 2, 1, true));
  });
  state.tfjsEmbeddings = await unit.array();
  unit.dispose();

  // The gallery: every test image embedded by the exported encoder on onnxruntime-web.
  setStatus('Embedding the test digits with onnxruntime-web…', 'embedding');
  const t3 = performance.now();
  configureRuntime({ wasmPaths: new URL('./ort/', location.href).href });
  const fx = await FeatureExtractor.create(onnx, { device: settings.embed });
  state.timings.embedStartMs = performance.now() - t3;
  const rows = await fx.extract(batch);
  state.embedDevice = fx.device;
  state.embedFallbacks = fx.fallbacks;
  state.timings.embedMs = performance.now() - t3;
  state.embeddings = rows.map((r) => Array.from(r));
  await fx.dispose();

  const index = new EmbeddingIndex();
  for (let i = settings.queries; i < n; i++) index.add(String(i), rows[i]);
  let agree = 0;
  state.neighbours = [];
  const gallery = [];
  for (let q = 0; q < settings.queries; q++) {
    const hits = index.search(rows[q], settings.k);
    state.neighbours.push(hits.map((h) => Number(h.id)));
    agree += hits.filter((h) => test.labels[Number(h.id)] === test.labels[q]).length;
    const row = document.createElement('div');
    row.className = 'query';
    const list = document.createElement('div');
    list.className = 'neighbours';
    list.append(
      ...hits.map((h) =>
        digit(test, Number(h.id), `${test.labels[Number(h.id)]} · ${h.score.toFixed(3)}`),
      ),
    );
    row.append(digit(test, q, `query ${test.labels[q]}`), list);
    gallery.push(row);
  }
  state.neighbourLabelAgreement = agree / (settings.queries * settings.k);
  $('results').replaceChildren(...gallery);
  $('gallery-info').textContent =
    `${n - settings.queries} test digits embedded on ${fx.device} in ${state.timings.embedMs.toFixed(0)} ms; ` +
    `${(100 * state.neighbourLabelAgreement).toFixed(0)}% of the neighbours shown share the query's label.`;
  state.timings.totalMs = performance.now() - t0;
  setStatus(
    `Done on ${backend.backend}: ${state.losses.length} steps, loss ${state.losses[0].toFixed(3)} → ${state.losses.at(-1).toFixed(3)}, in ${(state.timings.totalMs / 1000).toFixed(1)} s.`,
    'done',
  );
  return state;
}

window.__ebmDone = main().catch((error) => {
  console.error(error);
  state.error = `${error.name}${error.code ? ` (${error.code})` : ''}: ${error.message}`;
  setStatus(state.error, 'error');
  throw error;
});
