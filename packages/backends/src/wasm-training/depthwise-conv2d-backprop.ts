import * as tf from '@tensorflow/tfjs-core';
import { inputGradient } from './conv2d-backprop-input.js';
import { sum } from './reductions.js';
import {
  type Attrs,
  free,
  type KernelArgs,
  run,
  transpose,
  view,
  type WasmBackend,
} from './wasm-backend.js';

function depthwiseInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as number | [number, number],
    (attrs['dilations'] as number | [number, number] | undefined) ?? 1,
    attrs['pad'] as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    true,
    'channelsLast',
  );
}

/**
 * DepthwiseConv2dNativeBackpropInput for the wasm backend (tfjs 4.22 has none). With channel
 * multiplier M, dx = Σ_m dx_m where dx_m is the input gradient of a multiplier-1 depthwise conv
 * with the filter's slice m and dy's channels c·M + m; each one is the phase decomposition of
 * Conv2DBackpropInput on XNNPACK's depthwise convolution.
 */
export function depthwiseConv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const inputShape = attrs['inputShape'] as number[];
  const info = depthwiseInfo(inputShape, filter.shape, attrs);
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  if (m === 1) return inputGradient(backend, dy, filter, info, true);
  const [n, oh, ow] = dy.shape as [number, number, number, number];
  // [N·OH·OW, C, M] → [M, N·OH·OW, C] and [KH, KW, C, M] → [M, KH, KW, C]: slice m of each is
  // a contiguous block.
  const dyT = transpose(backend, view(dy, [n * oh * ow, c, m]), [2, 0, 1]);
  const fT = transpose(backend, filter, [3, 0, 1, 2]);
  let total: tf.TensorInfo | undefined;
  for (let i = 0; i < m; i++) {
    const dyI = run('Slice', backend, { x: dyT }, { begin: [i, 0, 0], size: [1, n * oh * ow, c] });
    const fI = run('Slice', backend, { x: fT }, { begin: [i, 0, 0, 0], size: [1, kh, kw, c] });
    const dx = inputGradient(
      backend,
      view(dyI, [n, oh, ow, c]),
      view(fI, [kh, kw, c, 1]),
      info,
      true,
    );
    free(backend, dyI, fI);
    if (total === undefined) {
      total = dx;
    } else {
      const next = run('Add', backend, { a: total, b: dx });
      free(backend, total, dx);
      total = next;
    }
  }
  free(backend, dyT, fT);
  return total!;
}

/**
 * DepthwiseConv2dNativeBackpropFilter for the wasm backend (tfjs 4.22 has none):
 *   dW[kh, kw, c, m] = Σ_{n, oh, ow} x[n, oh·s + kh·d − pad, ow·s + kw·d − pad, c] · dy[n, oh, ow, c·M + m].
 * One XNNPACK depthwise conv with a one-hot filter [KH, KW, C, KH·KW] and the forward geometry
 * gathers every tap's input (an im2col, [P, C, K]); a broadcast Multiply with dy [P, C, 1, M] and
 * a sum over P (XNNPACK average pooling) finish it.
 */
export function depthwiseConv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const [kh, kw, c, m] = filterShape;
  const k = kh * kw;
  const info = depthwiseInfo(x.shape, filterShape, attrs);
  const oneHot = backend.makeOutput([kh, kw, c, k], 'float32');
  const values = backend.typedArrayFromHeap(oneHot) as Float32Array;
  values.fill(0);
  for (let tap = 0; tap < k; tap++) {
    for (let ch = 0; ch < c; ch++) values[(tap * c + ch) * k + tap] = 1;
  }
  const { top, bottom, left, right } = info.padInfo;
  const cols = run(
    'DepthwiseConv2dNative',
    backend,
    { x, filter: oneHot },
    {
      strides: [info.strideHeight, info.strideWidth],
      dilations: [info.dilationHeight, info.dilationWidth],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dimRoundingMode: undefined,
    },
  );
  free(backend, oneHot);
  const p = info.batchSize * info.outHeight * info.outWidth;
  const products = run('Multiply', backend, {
    a: view(cols, [p, c, k, 1]),
    b: view(dy, [p, c, 1, m]),
  });
  free(backend, cols);
  const summed = sum({ inputs: { x: products }, backend, attrs: { axis: [0], keepDims: false } });
  free(backend, products);
  const out = transpose(backend, view(summed, [c, k, m]), [1, 0, 2]);
  free(backend, summed);
  return view(out, filterShape);
}
