import type { GraphBuilder } from '../graph-builder.js';
import { attr } from '../ir.js';
import { emitL2Normalize } from './l2-normalize.js';

/**
 * MoCo's InfoNCE in standard ONNX ops, as @ebmjs/losses' `infoNCE({ inBatchNegatives: false })`
 * computes it with cosine similarity: queries q [B, D], positive keys k [B, D] and the queue
 * [K, D] L2-normalised; logits [q·k⁺, q·queueᵀ] / τ ([B, 1 + K]); the mean over the B queries of
 * −log softmax at column 0. Returns the scalar loss value.
 */
export function emitInfoNce(
  b: GraphBuilder,
  query: string,
  keys: string,
  queue: string,
  queueSize: number,
  temperature: number,
): string {
  const q = emitL2Normalize(b, query, 'info_nce/query');
  const k = emitL2Normalize(b, keys, 'info_nce/keys');
  const n = emitL2Normalize(b, queue, 'info_nce/queue');
  const positive = b.reduce('ReduceSum', b.op('Mul', [q, k]), [1], true, 'info_nce/positive');
  const negatives = b.op('Gemm', [q, n], 'info_nce/negatives', { transB: attr.int(1) });
  const scores = b.op('Concat', [positive, negatives], 'info_nce/scores', { axis: attr.int(1) });
  const logits = b.op('Div', [scores, b.constFloat([temperature])], 'info_nce/logits');
  const logProb = b.op('LogSoftmax', [logits], 'info_nce/log_softmax', { axis: attr.int(1) });
  const first = new Float32Array(1 + queueSize);
  first[0] = 1;
  const column0 = b.initializer({
    name: 'info_nce/positive_column',
    dataType: 'float32',
    dims: [1, 1 + queueSize],
    data: first,
    isWeight: false,
  });
  const picked = b.reduce(
    'ReduceSum',
    b.op('Mul', [logProb, column0]),
    [1],
    false,
    'info_nce/picked',
  );
  return b.op('Neg', [b.reduce('ReduceMean', picked, [0], false)], 'loss_value');
}
