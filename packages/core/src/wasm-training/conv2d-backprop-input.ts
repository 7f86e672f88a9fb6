import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from '../errors.js';
import { conv2dPadded } from './conv-helpers.js';
import {
  type Attrs,
  free,
  type KernelArgs,
  run,
  transpose,
  type WasmBackend,
  view,
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
  return inputGradient(backend, dy, filter, info);
}

export function inputGradient(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  // Phase p of an axis holds the input rows p, p+s, ...; all phases get the length of phase 0.
  const hm = Math.ceil(h / sh);
  const wm = Math.ceil(w / sw);
  // The filter as [KH, KW, Co, Ci], flipped spatially: tap t of a phase's filter is the tap
  // r + s·(M−1−t) of the original.
  const flipped = run('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const swapped = transpose(backend, flipped, [0, 1, 3, 2]);
  free(backend, flipped);

  const phases: tf.TensorInfo[] = [];
  for (let ph = 0; ph < sh; ph++) {
    for (let pw = 0; pw < sw; pw++) {
      phases.push(phase(backend, dy, swapped, info, ph, pw, hm, wm));
    }
  }
  free(backend, swapped);

  let dx: tf.TensorInfo;
  if (phases.length === 1) {
    dx = phases[0]!;
  } else {
    // [sh·sw, N·hm·wm, Ci] → [N·hm·wm, sh·sw, Ci] is [N, hm, wm, (ph, pw, ci)]: DepthToSpace's
    // layout when sh = sw; the general case interleaves with two transposes.
    const stacked = run(
      'Concat',
      backend,
      phases.map((p) => view(p, [1, n * hm * wm, ci])) as unknown as Record<string, tf.TensorInfo>,
      { axis: 0 },
    );
    free(backend, ...phases);
    const rows = transpose(backend, view(stacked, [sh, sw, n * hm, wm * ci]), [2, 0, 1, 3]);
    free(backend, stacked);
    // rows: [N·hm, sh, sw, wm·ci] → [N·hm, sh, wm, sw, ci]
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

function phase(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  swapped: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  ph: number,
  pw: number,
  hm: number,
  wm: number,
): tf.TensorInfo {
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const rh = (ph + top) % sh;
  const rw = (pw + left) % sw;
  const mh = rh < kh ? Math.ceil((kh - rh) / sh) : 0;
  const mw = rw < kw ? Math.ceil((kw - rw) / sw) : 0;
  if (mh === 0 || mw === 0) return zeros(backend, [n, hm, wm, ci]);
  const qh = (ph + top - rh) / sh;
  const qw = (pw + left - rw) / sw;
  // In the flipped filter, original tap r + s·m sits at k−1−r−s·m: a strided slice.
  let sub = swapped;
  if (sh > 1 || sw > 1) {
    sub = run(
      'StridedSlice',
      backend,
      { x: swapped },
      {
        begin: [kh - 1 - rh - sh * (mh - 1), kw - 1 - rw - sw * (mw - 1), 0, 0],
        end: [kh - rh, kw - rw, swapped.shape[2]!, ci],
        strides: [sh, sw, 1, 1],
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      },
    );
  }
  const padTop = mh - 1 - qh;
  const padLeft = mw - 1 - qw;
  const out = conv2dPadded(backend, dy, sub, {
    top: padTop,
    bottom: hm - 1 + mh - oh - padTop,
    left: padLeft,
    right: wm - 1 + mw - ow - padLeft,
  });
  if (sub !== swapped) free(backend, sub);
  return out;
}
