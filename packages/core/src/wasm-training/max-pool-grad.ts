import * as tf from '@tensorflow/tfjs-core';
import { type Attrs, type KernelArgs, run, type WasmBackend } from './wasm-backend.js';

/**
 * MaxPoolGrad for the wasm backend: one pass over the pooling windows on the wasm heap, sending
 * each dy to the first maximum of its window (tfjs's tie rule, which matters after a ReLU where
 * whole windows are 0). tfjs's wasm kernel re-scans every window per input element and took
 * ~85 ns per element; XNNPACK has no pooling gradient to build on.
 */
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
    return run('MaxPoolGrad', backend, args.inputs as Record<string, tf.TensorInfo>, attrs);
  }
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs['filterSize'] as number | [number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput(input.shape, 'float32');
  // Views after the allocation: growing the wasm memory detaches older ones.
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  const rowStride = inWidth * c;
  const imageStride = inHeight * rowStride;
  let dyIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    const image = b * imageStride;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - top;
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = ow * strideWidth - left;
        for (let ch = 0; ch < c; ch++, dyIndex++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let kh = 0; kh < fh; kh += dilationHeight) {
            const h = h0 + kh;
            if (h < 0 || h >= inHeight) continue;
            const row = image + h * rowStride + ch;
            for (let kw = 0; kw < fw; kw += dilationWidth) {
              const w = w0 + kw;
              if (w < 0 || w >= inWidth) continue;
              const v = x[row + w * c]!;
              // `>` keeps the first maximum; NaN wins like in tfjs's cpu kernel.
              if (v > best || Number.isNaN(v)) {
                best = v;
                at = row + w * c;
                if (Number.isNaN(v)) break;
              }
            }
          }
          if (at >= 0) out[at]! += g[dyIndex]!;
        }
      }
    }
  }
  return dx;
}
