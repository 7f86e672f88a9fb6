import * as tf from '@tensorflow/tfjs-core';
import { type Attrs, type KernelArgs, run, type WasmBackend } from './wasm-backend.js';

/**
 * MaxPoolGrad for the wasm backend: one pass over the pooling windows on the wasm heap, sending
 * each dy to the first maximum of its window (tfjs's tie rule, which matters after a ReLU where
 * whole windows are 0), with an unrolled loop for the 2×2/2 pool. tfjs's wasm kernel re-scans
 * every window per input element and took ~85 ns per element; XNNPACK has no pooling gradient
 * to build on.
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
  // tfjs's cpu rule: the first window cell strictly greater than everything before it, starting
  // from −∞; so NaN never wins and an all-NaN (or all −∞) window passes no gradient.
  if (
    fh === 2 &&
    fw === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    top === 0 &&
    left === 0 &&
    inHeight === 2 * outHeight &&
    inWidth === 2 * outWidth
  ) {
    // The common 2×2/2 pool without padding: windows do not overlap, four unrolled reads.
    let dyIndex = 0;
    for (let r = 0; r < batchSize * outHeight; r++) {
      const rowBase = 2 * r * rowStride;
      for (let ow = 0; ow < outWidth; ow++) {
        const base = rowBase + 2 * ow * c;
        for (let ch = 0; ch < c; ch++, dyIndex++) {
          const i0 = base + ch;
          const i1 = i0 + c;
          const i2 = i0 + rowStride;
          const i3 = i2 + c;
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          let v = x[i0]!;
          if (v > best) {
            best = v;
            at = i0;
          }
          v = x[i1]!;
          if (v > best) {
            best = v;
            at = i1;
          }
          v = x[i2]!;
          if (v > best) {
            best = v;
            at = i2;
          }
          v = x[i3]!;
          if (v > best) at = i3;
          if (at >= 0) out[at] = g[dyIndex]!;
        }
      }
    }
    return dx;
  }
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
              if (v > best) {
                best = v;
                at = row + w * c;
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
