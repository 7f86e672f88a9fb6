import { EbmError } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Attrs,
  free,
  type KernelArgs,
  run,
  transpose,
  type WasmBackend,
} from './wasm-backend.js';

/**
 * Conv2DBackpropFilter for the wasm backend (tfjs 4.22 has none: tfjs issue #8474), as one
 * XNNPACK convolution over transposed operands, so no im2col buffer is ever materialised:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh − pad, ow·s + kw − pad, ci] · dy[n, oh, ow, co]
 *
 * is a convolution of x' = x transposed to [Ci, H, W, N] (batch Ci, channels N) with the
 * "filter" dy' = dy transposed to [OH, OW, N, Co], dilated by the forward stride, giving
 * [Ci, KH, KW, Co].
 */
export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const dataFormat = (attrs['dataFormat'] as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') {
    throw new EbmError(
      'UNSUPPORTED',
      `Conv2DBackpropFilter on wasm supports dataFormat NHWC only, received ${dataFormat}.`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  return filterGradient(backend, x, dy, info);
}

/** Shared by the depthwise backprop: the same convolution, given a computed conv info. */
export function filterGradient(
  backend: WasmBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w } = info;
  const { top, left } = info.padInfo;
  // Padding after the input so the dilated dy' spans exactly kh rows of output; a negative value
  // means rows the forward pass never read: the conv then yields extra rows that are sliced off.
  const bottom = Math.max(0, kh + (oh - 1) * sh - h - top);
  const right = Math.max(0, kw + (ow - 1) * sw - w - left);
  const xt = transpose(backend, x, [3, 1, 2, 0]);
  const dyt = transpose(backend, dy, [1, 2, 0, 3]);
  const conv = run(
    'Conv2D',
    backend,
    { x: xt, filter: dyt },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
      dimRoundingMode: undefined,
    },
  );
  free(backend, xt, dyt);
  let cropped = conv;
  if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
    cropped = run('Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] });
    free(backend, conv);
  }
  const out = transpose(backend, cropped, [1, 2, 0, 3]);
  free(backend, cropped);
  return out;
}
