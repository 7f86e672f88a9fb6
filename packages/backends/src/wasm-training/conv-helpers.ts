import type * as tf from '@tensorflow/tfjs-core';
import { free, run, type WasmBackend } from './wasm-backend.js';

export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * A stride-1 XNNPACK Conv2D or DepthwiseConv2dNative (NHWC) with explicit padding that may be negative on any side: a
 * negative pad crops the input instead (XNNPACK takes only non-negative padding).
 */
export function conv2dPadded(
  backend: WasmBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pad: Padding,
  dilations: [number, number] = [1, 1],
  kernel: 'Conv2D' | 'DepthwiseConv2dNative' = 'Conv2D',
): tf.TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cropTop = Math.max(0, -pad.top);
  const cropBottom = Math.max(0, -pad.bottom);
  const cropLeft = Math.max(0, -pad.left);
  const cropRight = Math.max(0, -pad.right);
  let input = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    input = run(
      'Slice',
      backend,
      { x },
      {
        begin: [0, cropTop, cropLeft, 0],
        size: [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c],
      },
    );
  }
  const out = run(
    kernel,
    backend,
    { x: input, filter },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [Math.max(0, pad.top), Math.max(0, pad.bottom)],
        [Math.max(0, pad.left), Math.max(0, pad.right)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations,
      dimRoundingMode: undefined,
    },
  );
  if (input !== x) free(backend, input);
  return out;
}
