// The browser half of bench/ort-web-step.mjs (bundled by it with esbuild): loads onnxruntime-web,
// opens the compiled SimCLR step that the Node half wrote next to the page on one execution
// provider, runs `steps` steps through @ebmjs/export's OrtTrainingEngine and leaves the result
// in window.__bench. Query: ?net=<dir>&ep=webgpu|wasm&threads=<n>&steps=<n>
import { OrtTrainingEngine } from '../packages/export/dist/training/engine.js';

const q = new URLSearchParams(location.search);
const net = q.get('net');
const ep = q.get('ep') ?? 'wasm';
const threads = Number(q.get('threads') ?? '1');
const steps = Number(q.get('steps') ?? '5');
const result = { net, ep, threads, crossOriginIsolated: globalThis.crossOriginIsolated === true };

const bytes = async (path) => new Uint8Array(await (await fetch(path)).arrayBuffer());

try {
  // The WebGPU build (JSEP) for 'webgpu'; the plain wasm build for 'wasm', as a wasm-only app ships.
  const ort = await import(ep === 'webgpu' ? '/ort/ort.webgpu.min.mjs' : '/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  result.ortVersion = ort.env.versions?.web;
  if (ep === 'webgpu') {
    const adapter = await navigator.gpu?.requestAdapter();
    result.adapter = adapter
      ? { vendor: adapter.info?.vendor, architecture: adapter.info?.architecture }
      : null;
  }
  const meta = await (await fetch(`/${net}/meta.json`)).json();
  const model = await bytes(`/${net}/step.onnx`);
  const stateData = new Float32Array((await bytes(`/${net}/state.bin`)).buffer);
  const views = new Float32Array((await bytes(`/${net}/views.bin`)).buffer);
  const size = meta.viewDims.reduce((a, d) => a * d, 1);
  const v1 = views.subarray(0, size);
  const v2 = views.subarray(size, 2 * size);
  let offset = 0;
  const state = meta.state.map((s) => {
    const n = s.dims.reduce((a, d) => a * d, 1);
    const initial = stateData.slice(offset, offset + n);
    offset += n;
    return { ...s, initial };
  });
  const graph = { ...meta, model, state, gradients: new Map() };

  // Where ORT put each node: its verbose log at session creation lists the nodes per provider.
  // (A separate, discarded session, so the timed one logs nothing.)
  if (q.get('placement') === '1') {
    const lines = [];
    const log = console.log;
    const keep = (...a) => lines.push(a.join(' '));
    console.log = keep;
    console.warn = keep;
    console.info = keep;
    ort.env.logLevel = 'verbose';
    try {
      const s = await ort.InferenceSession.create(model, {
        executionProviders: [ep],
        graphOptimizationLevel: 'extended',
        logSeverityLevel: 0,
        logVerbosityLevel: 0,
      });
      await s.release();
    } finally {
      console.log = log;
      ort.env.logLevel = 'warning';
    }
    result.placementLog = lines.filter((l) =>
      /placed on|not assigned|fall ?back|Node\(s\)|unsupported|not supported/i.test(l),
    );
  }

  // The engine takes the ort module; this one adds the execution provider (the engine has no
  // option for it) and keeps ORT's own warnings.
  const withProvider = {
    Tensor: ort.Tensor,
    InferenceSession: {
      create: (m, options) =>
        ort.InferenceSession.create(m, { ...options, executionProviders: [ep] }),
    },
  };
  let t = performance.now();
  const engine = await OrtTrainingEngine.create(withProvider, graph, { threads });
  result.sessionMs = performance.now() - t;
  result.losses = [];
  result.stepMs = [];
  for (let i = 0; i < steps; i++) {
    t = performance.now();
    const { loss } = await engine.step(v1, v2, meta.lr);
    result.stepMs.push(performance.now() - t);
    result.losses.push(loss);
  }
  result.preallocatedOutputs = engine.preallocatedOutputs;
  await engine.release();
} catch (error) {
  result.error = String(error?.message ?? error);
}
window.__bench = result;
