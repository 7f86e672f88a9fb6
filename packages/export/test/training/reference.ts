// The tfjs side of the training tests: the same SimCLR step as the ONNX graph, on the cpu
// backend, with tf.variableGrads + tf.train.adam (what ebm.js's tfjs engine does).
import { cosineSimilarityMatrix, logSumExp } from '@ebmjs/core';

// @ebmjs/core's MASK_VALUE (not exported from its index).
const MASK_VALUE = 1e9;

import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { permuteData } from '../../src/tensor-utils.js';

void (null as unknown as SymbolicTensor);

/** NT-Xent as @ebmjs/losses computes it (diagonal masked, mean over the 2N anchors). */
export function ntXentRef(z: tf.Tensor2D, tau: number): tf.Scalar {
  const n2 = z.shape[0];
  const n = n2 / 2;
  const logits = tf.div(cosineSimilarityMatrix(z), tau);
  const masked = tf.sub(logits, tf.mul(tf.eye(n2), MASK_VALUE));
  const pos = tf.oneHot(
    tf.tensor1d(
      Int32Array.from({ length: n2 }, (_, i) => (i + n) % n2),
      'int32',
    ),
    n2,
  );
  const positive = tf.sum(tf.mul(logits, pos), 1);
  return tf.mean(tf.sub(logSumExp(masked, 1), positive)) as tf.Scalar;
}

/** NHWC [B, H, W, C] data → NCHW, as the ONNX step takes its views. */
export function toNchw(data: Float32Array, dims: number[]): Float32Array {
  return permuteData(data, dims, [0, 3, 1, 2]).data;
}

export interface RefStep {
  loss: number;
  grads: Map<string, Float32Array>;
}

/** One tfjs training step; returns the loss and each trainable variable's gradient (by name). */
export function tfjsStep(
  encoder: LayersModel,
  head: LayersModel,
  views: [tf.Tensor4D, tf.Tensor4D],
  optimizer: tf.Optimizer,
  tau: number,
): RefStep {
  const vars = [...encoder.trainableWeights, ...head.trainableWeights].map(
    (w) => w.read() as tf.Variable,
  );
  const input = tf.concat(views, 0);
  const { value, grads } = tf.variableGrads(() => {
    const z = head.apply(encoder.apply(input, { training: true }), { training: true });
    return ntXentRef(z as tf.Tensor2D, tau);
  }, vars);
  const out = new Map<string, Float32Array>();
  for (const [name, g] of Object.entries(grads)) out.set(name, g.dataSync() as Float32Array);
  optimizer.applyGradients(grads);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, input, ...Object.values(grads)]);
  return { loss, grads: out };
}

/** max |a − b| / max(|b|, tiny): the relative error the acceptance criteria bound. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/** ONNX layout → tfjs layout (the inverse of the exporter's transpose). */
export function toTfjsLayout(data: Float32Array, dims: number[], perm: number[]): Float32Array {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  const out = new Float32Array(data.length);
  const outDims = inverse.map((p) => dims[p]!);
  const stride = (d: number[]) => d.map((_, i) => d.slice(i + 1).reduce((a, x) => a * x, 1));
  const inStride = stride(dims);
  const outStride = stride(outDims);
  for (let i = 0; i < data.length; i++) {
    let rest = i;
    let src = 0;
    for (let a = 0; a < outDims.length; a++) {
      const idx = Math.floor(rest / outStride[a]!);
      rest -= idx * outStride[a]!;
      src += idx * inStride[inverse[a]!]!;
    }
    out[i] = data[src]!;
  }
  return out;
}
