import { Rng } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';

ortWeb.env.wasm.numThreads = 1;

export { Rng };

/** Uniform values in [lo, hi). */
export function uniform(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.next();
  return out;
}

/**
 * Seeded weights that keep activations O(1) through deep stacks: kernels ~ U(±√(3/fanIn)),
 * BatchNorm statistics away from degenerate values, small biases.
 */
export function randomizeWeights(model: LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers.flatMap((l) => flattenLayers(l))) {
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const name = w.originalName;
      let data: Float32Array;
      if (name.endsWith('moving_variance')) data = uniform(rng, n, 0.5, 1.5);
      else if (name.endsWith('gamma')) data = uniform(rng, n, 0.6, 1.4);
      else if (name.endsWith('moving_mean') || name.endsWith('beta') || name.endsWith('bias')) {
        data = uniform(rng, n, -0.2, 0.2);
      } else if (name.endsWith('alpha')) data = uniform(rng, n, 0, 0.5);
      else {
        const fanIn = shape.length <= 1 ? 1 : n / shape[shape.length - 1]!;
        const a = Math.sqrt(3 / fanIn);
        data = uniform(rng, n, -a, a);
      }
      return tf.tensor(data, shape);
    });
    if (values.length > 0) layer.setWeights(values);
    tf.dispose(values);
  }
}

function flattenLayers(layer: LayersModel['layers'][number]): LayersModel['layers'] {
  const inner = (layer as Partial<LayersModel>).layers;
  return Array.isArray(inner) ? inner.flatMap(flattenLayers) : [layer];
}

/** tfjs reference output(s) for one input batch. */
export function runTfjs(
  model: LayersModel,
  input: Float32Array | Float32Array[],
  shapes: number[][],
): Float32Array[] {
  return tf.tidy(() => {
    const xs = (Array.isArray(input) ? input : [input]).map((d, i) => tf.tensor(d, shapes[i]));
    const out = model.predict(xs.length === 1 ? xs[0]! : xs);
    return (Array.isArray(out) ? out : [out])
      .map((t) => t.dataSync() as Float32Array)
      .map((d) => d.slice());
  });
}

export type OrtFlavor = 'node' | 'web';

/** Runs the ONNX bytes on onnxruntime-node (CPU) or onnxruntime-web (wasm). */
export async function runOrt(
  bytes: Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
  flavor: OrtFlavor = 'node',
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const lib = (flavor === 'node' ? ort : ortWeb) as typeof ort;
  const session = await lib.InferenceSession.create(bytes);
  try {
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [k, new lib.Tensor('float32', v.data, v.dims)]),
    );
    const out = await session.run(tensors);
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]),
    );
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** NHWC [n, h, w, c] data -> NCHW. */
export function nhwcToNchw(data: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n!; b++)
    for (let y = 0; y < h!; y++)
      for (let x = 0; x < w!; x++)
        for (let k = 0; k < c!; k++)
          out[((b * c! + k) * h! + y) * w! + x] = data[((b * h! + y) * w! + x) * c! + k]!;
  return out;
}

export interface ParityOptions {
  layout?: 'NHWC' | 'NCHW';
  batches?: number[];
  seed?: number;
  /** ORT builds to run the one exported model on (default: node). */
  flavors?: OrtFlavor[];
  exportOptions?: Record<string, unknown>;
  /** Input value range (default ±1). */
  range?: number;
}

/**
 * Exports `model` once and feeds the same random inputs to tfjs and ORT for each batch size;
 * returns the largest |ORT − tfjs| over all outputs and batches and the largest |tfjs| (for
 * relative checks).
 */
export async function parity(
  model: LayersModel,
  exportOnnxFn: (m: LayersModel, o: Record<string, unknown>) => Promise<Uint8Array>,
  options: ParityOptions = {},
): Promise<{ maxDiff: number; maxRef: number; bytes: Uint8Array }> {
  const { layout = 'NHWC', batches = [1, 7], seed = 7, flavors = ['node'], range = 1 } = options;
  const bytes = await exportOnnxFn(model, { ...options.exportOptions, layout });
  const rng = new Rng(seed);
  let maxDiff = 0;
  let maxRef = 0;
  for (const n of batches) {
    const shapes = model.inputs.map((st) => [n, ...(st.shape.slice(1) as number[])]);
    const xs = shapes.map((s) =>
      uniform(
        rng,
        s.reduce((a, b) => a * b, 1),
        -range,
        range,
      ),
    );
    const refs = runTfjs(model, xs, shapes);
    const single = model.inputs.length === 1;
    const feeds = Object.fromEntries(
      xs.map((x, i) => {
        const s = shapes[i]!;
        const nchw = s.length === 4 && layout === 'NCHW';
        return [
          single ? 'input' : `input_${i}`,
          { data: nchw ? nhwcToNchw(x, s) : x, dims: nchw ? [s[0]!, s[3]!, s[1]!, s[2]!] : s },
        ];
      }),
    );
    for (const flavor of flavors) {
      const out = await runOrt(bytes, feeds, flavor);
      refs.forEach((ref, i) => {
        const name = refs.length === 1 ? 'embedding' : `output_${i}`;
        const o = out[name]!;
        const outShape = [n, ...(model.outputs[i]!.shape.slice(1) as number[])];
        const got =
          outShape.length === 4 && layout === 'NCHW' ? nchwToNhwc(o.data, outShape) : o.data;
        maxDiff = Math.max(maxDiff, maxAbsDiff(got, ref));
        maxRef = Math.max(maxRef, maxAbs(ref));
      });
    }
  }
  return { maxDiff, maxRef, bytes };
}

/** NCHW data -> NHWC, where nhwcShape is [n, h, w, c]. */
export function nchwToNhwc(data: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n!; b++)
    for (let y = 0; y < h!; y++)
      for (let x = 0; x < w!; x++)
        for (let k = 0; k < c!; k++)
          out[((b * h! + y) * w! + x) * c! + k] = data[((b * c! + k) * h! + y) * w! + x]!;
  return out;
}
