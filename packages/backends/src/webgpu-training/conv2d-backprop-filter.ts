import { EbmError } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Attrs,
  free,
  type KernelArgs,
  reshape,
  run,
  type WebGPUBackend,
} from './webgpu-backend.js';

/** Rows of the patch matrix each batched matmul reduces before the partial sums are added. */
export const ROWS_PER_SPLIT = 1024;

/**
 * Conv2DBackpropFilter on webgpu as matrix products of im2col patches:
 *
 *   dW[(kh·KW + kw)·C + c, co] = Σ_m P[m, (kh·KW + kw)·C + c] · dy[m, co],  m = (n, oh, ow)
 *
 * P (the im2col matrix, [N·OH·OW, KH·KW·C]) is KH·KW strided slices of the padded x,
 * concatenated on channels. The sum over m (N·OH·OW, up to millions) is split into batches of
 * whole images of about ROWS_PER_SPLIT rows, one batched matmul gives the partial products and a
 * Sum adds them: every step is one of tfjs-webgpu's tiled shaders with enough parallel work.
 * tfjs-webgpu's own kernel is one thread per weight, each looping over all N·OH·OW positions.
 */
export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = (args.attrs ?? {}) as Attrs;
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const dataFormat = (attrs['dataFormat'] as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') {
    throw new EbmError(
      'UNSUPPORTED',
      `Conv2DBackpropFilter on webgpu (ebm.js) expects dataFormat NHWC, received ${dataFormat}.`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Enough rows/columns after the input for the last window; windows never read beyond them.
  const bottom = Math.max(0, (oh - 1) * sh + kh - h - top);
  const right = Math.max(0, (ow - 1) * sw + kw - w - left);
  const padded =
    top + bottom + left + right === 0
      ? x
      : run(
          'PadV2',
          backend,
          { x },
          {
            paddings: [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
            constantValue: 0,
          },
        );
  const taps: tf.TensorInfo[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      taps.push(
        run(
          'StridedSlice',
          backend,
          { x: padded },
          {
            begin: [0, i, j, 0],
            end: [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c],
            strides: [1, sh, sw, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          },
        ),
      );
  if (padded !== x) free(backend, padded);
  const patches = taps.length === 1 ? taps[0]! : run('Concat', backend, taps, { axis: 3 });
  if (taps.length > 1) free(backend, ...taps);
  const k = kh * kw * c;
  const images = imagesPerSplit(n, oh * ow);
  const splits = n / images;
  const rows = images * oh * ow;
  const p3 = reshape(backend, patches, [splits, rows, k]);
  const dy3 = reshape(backend, dy, [splits, rows, co]);
  const partial = run(
    'BatchMatMul',
    backend,
    { a: p3, b: dy3 },
    { transposeA: true, transposeB: false },
  );
  free(backend, patches, p3, dy3);
  let dw: tf.TensorInfo;
  if (splits === 1) {
    dw = reshape(backend, partial, filterShape);
  } else {
    const total = run('Sum', backend, { x: partial }, { axis: [0], keepDims: false });
    dw = reshape(backend, total, filterShape);
    free(backend, total);
  }
  free(backend, partial);
  return dw;
}

/** The smallest divisor of n whose images give at least ROWS_PER_SPLIT rows (n when none). */
export function imagesPerSplit(n: number, rowsPerImage: number): number {
  for (let g = 1; g <= n; g++) if (n % g === 0 && g * rowsPerImage >= ROWS_PER_SPLIT) return g;
  return n;
}
