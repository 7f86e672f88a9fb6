import { EbmError } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import { conv2dPadded, type Padding } from './conv-helpers.js';
import {
  type Attrs,
  free,
  type KernelArgs,
  run,
  transpose,
  view,
  type WasmBackend,
  zeros,
} from './wasm-backend.js';

/**
 * Conv2DBackpropInput for the wasm backend on XNNPACK convolutions. tfjs's own wasm kernel is a
 * scalar C++ loop (~10× slower than the forward conv). The input gradient of a stride-s conv
 * splits into s_h·s_w phases: the rows i ≡ p (mod s) of dx only meet the filter taps
 * k ≡ (p + pad) (mod s), so each phase is a stride-1 convolution of dy with a flipped,
 * sub-sampled filter. The phases are then interleaved back into place. With stride 1 there is
 * one phase: dy convolved with the flipped, in/out-transposed filter.
 */
export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const dataFormat = (attrs['dataFormat'] as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') {
    throw new EbmError(
      'UNSUPPORTED',
      `Conv2DBackpropInput on wasm supports dataFormat NHWC only, received ${dataFormat}.`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    attrs['inputShape'] as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  return inputGradient(backend, dy, filter, info, false);
}

/**
 * dx of a conv (`depthwise` false: filter [KH, KW, Ci, Co]) or of a depthwise conv with channel
 * multiplier 1 (`depthwise` true: filter [KH, KW, C, 1]), for the geometry in `info`.
 */
export function inputGradient(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  if (info.dilationHeight > 1 || info.dilationWidth > 1) {
    return dilatedGradient(backend, dy, filter, info, depthwise);
  }
  // Phase p of an axis holds the input rows p, p+s, ...; all phases get the length of phase 0.
  const hm = Math.ceil(h / sh);
  const wm = Math.ceil(w / sw);
  const phases: tf.TensorInfo[] = [];
  for (let ph = 0; ph < sh; ph++) {
    for (let pw = 0; pw < sw; pw++) {
      phases.push(phase(backend, dy, filter, info, ph, pw, hm, wm, depthwise));
    }
  }
  let dx: tf.TensorInfo;
  if (phases.length === 1) {
    dx = phases[0]!;
  } else {
    // Stack the phases as [sh, sw, N·hm, wm·ci] and move them into place:
    // → [N·hm, sh, sw, wm·ci] → (as [N·hm·sh, sw, wm, ci]) → [N·hm·sh, wm, sw, ci] = dx.
    const stacked = run(
      'Concat',
      backend,
      phases.map((p) => view(p, [1, n * hm * wm, ci])) as unknown as Record<string, tf.TensorInfo>,
      { axis: 0 },
    );
    free(backend, ...phases);
    const rows = transpose(backend, view(stacked, [sh, sw, n * hm, wm * ci]), [2, 0, 1, 3]);
    free(backend, stacked);
    const inter = transpose(backend, view(rows, [n * hm * sh, sw, wm, ci]), [0, 2, 1, 3]);
    free(backend, rows);
    dx = view(inter, [n, hm * sh, wm * sw, ci]);
  }
  if (dx.shape[1] !== h || dx.shape[2] !== w) {
    const cropped = run('Slice', backend, { x: dx }, { begin: [0, 0, 0, 0], size: [n, h, w, ci] });
    free(backend, dx);
    dx = cropped;
  }
  return dx;
}

/**
 * The filter taps (rows[i], cols[j]) of `filter` [KH, KW, A, B] as a new [rows, cols, B, A]
 * filter (a conv's input gradient swaps in and out channels), or [rows, cols, A, B] for a
 * depthwise one. Taps are whole A·B blocks: memmoves on the wasm heap, then one XNNPACK-speed
 * transpose — tfjs's wasm Reverse and StridedSlice cost ~30 ns per element.
 */
function gatherTaps(
  backend: WasmBackend,
  filter: tf.TensorInfo,
  rows: number[],
  cols: number[],
  swapInOut: boolean,
): tf.TensorInfo {
  const [, kw, a, b] = filter.shape as [number, number, number, number];
  const block = a * b;
  const out = backend.makeOutput([rows.length * cols.length, a, b], 'float32');
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  let t = 0;
  for (const r of rows) {
    for (const c of cols) {
      const from = (r * kw + c) * block;
      dst.set(src.subarray(from, from + block), t * block);
      t++;
    }
  }
  if (!swapInOut) return view(out, [rows.length, cols.length, a, b]);
  const swapped = transpose(backend, out, [0, 2, 1]);
  free(backend, out);
  return view(swapped, [rows.length, cols.length, b, a]);
}

const range = (n: number, at: (i: number) => number) => Array.from({ length: n }, (_, i) => at(i));

/** With dilation d (stride 1): one conv of dy with the flipped filter, dilated by d. */
function dilatedGradient(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): tf.TensorInfo {
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const flipped = gatherTaps(
    backend,
    filter,
    range(kh, (i) => kh - 1 - i),
    range(kw, (j) => kw - 1 - j),
    !depthwise,
  );
  const out = convolve(
    backend,
    dy,
    flipped,
    {
      top: (kh - 1) * dh - top,
      bottom: h - oh + top,
      left: (kw - 1) * dw - left,
      right: w - ow + left,
    },
    [dh, dw],
    depthwise,
  );
  free(backend, flipped);
  return out;
}

function convolve(
  backend: WasmBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pad: Padding,
  dilations: [number, number],
  depthwise: boolean,
): tf.TensorInfo {
  return conv2dPadded(
    backend,
    x,
    filter,
    pad,
    dilations,
    depthwise ? 'DepthwiseConv2dNative' : 'Conv2D',
  );
}

/** The rows (and columns) i ≡ p (mod s) of dx: a stride-1 conv with a sub-sampled filter. */
function phase(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  ph: number,
  pw: number,
  hm: number,
  wm: number,
  depthwise: boolean,
): tf.TensorInfo {
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Only the taps r, r + s, ... (r ≡ p + pad mod s) reach this phase; M of them per axis.
  const rh = (ph + top) % sh;
  const rw = (pw + left) % sw;
  const mh = rh < kh ? Math.ceil((kh - rh) / sh) : 0;
  const mw = rw < kw ? Math.ceil((kw - rw) / sw) : 0;
  if (mh === 0 || mw === 0) return zeros(backend, [n, hm, wm, ci]);
  const qh = (ph + top - rh) / sh;
  const qw = (pw + left - rw) / sw;
  // Tap t of the phase's (flipped) filter is the original tap r + s·(M − 1 − t).
  const sub = gatherTaps(
    backend,
    filter,
    range(mh, (i) => rh + sh * (mh - 1 - i)),
    range(mw, (j) => rw + sw * (mw - 1 - j)),
    !depthwise,
  );
  const padTop = mh - 1 - qh;
  const padLeft = mw - 1 - qw;
  const out = convolve(
    backend,
    dy,
    sub,
    {
      top: padTop,
      bottom: hm - 1 + mh - oh - padTop,
      left: padLeft,
      right: wm - 1 + mw - ow - padLeft,
    },
    [1, 1],
    depthwise,
  );
  free(backend, sub);
  return out;
}
