import type { GraphBuilder } from '../graph-builder.js';
import { attr } from '../ir.js';
import { emitL2Normalize } from './l2-normalize.js';

/**
 * SimCLR's NT-Xent in standard ONNX ops, as @ebmjs/losses' `ntXent` computes it: z = [z1; z2]
 * ([2B, D]) L2-normalised (x·rsqrt(max(Σx², 1e-24)), @ebmjs/core's l2Normalize), cosine
 * logits / τ with the diagonal pushed down by 1e9 (@ebmjs/core's MASK_VALUE), then the mean over
 * the 2B anchors of −log softmax at the positive (i ± B). Returns the scalar loss value.
 */
export function emitNtXent(b: GraphBuilder, z: string, batch: number, temperature: number): string {
  const n = 2 * batch;
  const zn = emitL2Normalize(b, z, 'nt_xent');
  const sim = b.op('Gemm', [zn, zn], 'nt_xent/cosine', { transB: attr.int(1) });
  const logits = b.op('Div', [sim, b.constFloat([temperature])], 'nt_xent/logits');
  const diagonal = new Float32Array(n * n);
  const positive = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    diagonal[i * n + i] = 1e9;
    positive[i * n + ((i + batch) % n)] = 1;
  }
  const mask = b.initializer({
    name: 'nt_xent/diagonal',
    dataType: 'float32',
    dims: [n, n],
    data: diagonal,
    isWeight: false,
  });
  const onehot = b.initializer({
    name: 'nt_xent/positives',
    dataType: 'float32',
    dims: [n, n],
    data: positive,
    isWeight: false,
  });
  const masked = b.op('Sub', [logits, mask], 'nt_xent/masked');
  const logProb = b.op('LogSoftmax', [masked], 'nt_xent/log_softmax', { axis: attr.int(1) });
  const picked = b.reduce(
    'ReduceSum',
    b.op('Mul', [logProb, onehot]),
    [1],
    false,
    'nt_xent/positive',
  );
  return b.op('Neg', [b.reduce('ReduceMean', picked, [0], false)], 'loss_value');
}
