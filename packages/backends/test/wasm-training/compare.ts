// Runs the same computation on the cpu backend (the reference) and on the backend under test
// (wasm with ebm.js's training kernels, or webgpu), on identical inputs, and measures how far
// apart the results are.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels, selectBackend } from '../../src/index.js';

/**
 * The backend the suite checks: wasm, or webgpu when EBM_KERNEL_BACKEND=webgpu (set by
 * test/webgpu-kernels.test.ts, which runs this suite in a child pointed at SwiftShader).
 */
export const TARGET: 'wasm' | 'webgpu' =
  process.env['EBM_KERNEL_BACKEND'] === 'webgpu' ? 'webgpu' : 'wasm';
/** Cases that test wasm internals (its kernels' planning, threads) run only on wasm. */
export const onWasm = TARGET === 'wasm';

export interface InputSpec {
  shape: number[];
  dtype?: 'float32' | 'int32' | 'bool';
  /** Values for int32 inputs are drawn from [min, max). */
  min?: number;
  max?: number;
  /** Fraction of float entries replaced by 0 (ties for max-pooling, ReLU-like inputs). */
  zeros?: number;
}

let ready: Promise<void> | undefined;

/** Registers the kernels and initialises both backends once per test file. */
export function setupBackends(): Promise<void> {
  ready ??= (async () => {
    registerWasmTrainingKernels();
    if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed');
    if (TARGET === 'webgpu') await selectBackend({ backend: 'webgpu', env: {} });
    else if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed');
  })();
  return ready;
}

/** Deterministic values (a 32-bit LCG), so every run and both backends see the same inputs. */
export function values(spec: InputSpec, seed: number): Float32Array | Int32Array | Uint8Array {
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'int32') {
    const lo = spec.min ?? -5;
    const hi = spec.max ?? 5;
    return Int32Array.from({ length: n }, () => lo + Math.floor(next() * (hi - lo)));
  }
  if (spec.dtype === 'bool') return Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
  return Float32Array.from({ length: n }, () => {
    const u = next();
    if (spec.zeros !== undefined && u < spec.zeros) return 0;
    // Roughly normal: sum of uniforms, centred.
    return next() + next() + next() - 1.5;
  });
}

type Result = tf.Tensor | tf.Tensor[];

/** Runs `fn` on `backend` with fresh tensors made from `data`, returning the outputs' values (read with data(): webgpu in Node has no dataSync). */
async function runOn(
  backend: string,
  specs: InputSpec[],
  data: (Float32Array | Int32Array | Uint8Array)[],
  fn: (...xs: tf.Tensor[]) => Result,
): Promise<{ shapes: number[][]; values: Float32Array[] }> {
  await tf.setBackend(backend);
  const inputs = specs.map((s, i) => tf.tensor(data[i]!, s.shape, s.dtype ?? 'float32'));
  const before = tf.memory().numTensors;
  const out = fn(...inputs);
  const outs = Array.isArray(out) ? out : [out];
  const result = {
    shapes: outs.map((t) => t.shape),
    values: await Promise.all(
      outs.map(async (t) => Float32Array.from((await t.data()) as ArrayLike<number>)),
    ),
  };
  tf.dispose(outs);
  const leaked = tf.memory().numTensors - before;
  tf.dispose(inputs);
  if (leaked !== 0) throw new Error(`${backend}: ${leaked} tensors leaked`);
  return result;
}

export interface Comparison {
  /** max |target − cpu| / max |cpu| per output (the error measure the spec bounds by 1e-4). */
  relErrors: number[];
  shapesMatch: boolean;
}

export async function compareBackends(
  specs: InputSpec[],
  fn: (...xs: tf.Tensor[]) => Result,
  seed = 1,
): Promise<Comparison> {
  await setupBackends();
  const data = specs.map((s, i) => values(s, seed * 101 + i));
  const ref = await runOn('cpu', specs, data, fn);
  const got = await runOn(TARGET, specs, data, fn);
  await tf.setBackend(TARGET);
  const shapesMatch =
    ref.shapes.length === got.shapes.length &&
    ref.shapes.every((s, i) => s.join() === got.shapes[i]!.join());
  const relErrors = ref.values.map((r, i) => relativeError(got.values[i]!, r));
  return { relErrors, shapesMatch };
}

export function relativeError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (!(d <= diff)) diff = d; // NaN propagates as a failure
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/** Reads a tensor's values on any backend (webgpu in Node has no dataSync). */
export async function read(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from((await t.data()) as ArrayLike<number>);
}

/**
 * A fixed, non-uniform upstream gradient for y: sin(i) computed in JavaScript, so both backends
 * get the same values (a GPU's sin of large arguments differs from Math.sin by ~1e-4).
 */
export function upstream(y: tf.Tensor): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: y.size }, (_, i) => Math.sin(i)),
    y.shape,
  );
}

/** Runs `fn` in a tidy and reads its result (then disposes it). */
export async function readTidy(fn: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(fn);
  const v = await read(t);
  t.dispose();
  return v;
}

/** Runs a kernel by name (tfjs exports no op for some backprop kernels). */
export function kernel(name: string, inputs: Record<string, tf.Tensor>, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
