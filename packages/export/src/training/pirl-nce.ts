import type { GraphBuilder } from '../graph-builder.js';
import { attr } from '../ir.js';
import { emitL2Normalize } from './l2-normalize.js';

/** Shapes of PIRL's loss inputs: B images, K negatives each, D-dimensional embeddings. */
export interface PirlNceShape {
  batch: number;
  negatives: number;
  dim: number;
  temperature: number;
  lambda: number;
}

/**
 * PIRL's NCE loss in standard ONNX ops (plus the StopGradient marker), as @ebmjs/losses'
 * `pirlNCE({ temperature, lambda })` computes it with a memory bank: for an anchor v (g of the
 * jigsaw patches, or f of the image) against the bank entry m and K per-image negatives, cosine
 * logits l = s/τ, the noise shift c = log Σ exp(all l) − log(#l) + log K (VISSL's Z, constant:
 * no gradient), and L_NCE = softplus(c − l⁺) + Σ_j softplus(l_j − c);
 * L = mean(λ·L_NCE(g, m) + (1 − λ)·L_NCE(f, m)). Returns the scalar loss value.
 */
export function emitPirlNce(
  b: GraphBuilder,
  f: string,
  g: string,
  memory: string,
  negatives: string,
  shape: PirlNceShape,
): string {
  const { batch, negatives: k, dim, temperature, lambda } = shape;
  const tau = b.constFloat([temperature]);
  const m = emitL2Normalize(b, memory, 'pirl_nce/memory');
  const flat = b.op('Reshape', [negatives, b.constInt64([batch * k, dim])]);
  const n = b.op('Reshape', [
    emitL2Normalize(b, flat, 'pirl_nce/negatives'),
    b.constInt64([batch, k, dim]),
  ]);
  const term = (anchor: string, name: string) => {
    const a = emitL2Normalize(b, anchor, `${name}/anchor`);
    const pos = b.op('Div', [b.reduce('ReduceSum', b.op('Mul', [a, m]), [1], false), tau]);
    const rows = b.op('Reshape', [a, b.constInt64([batch, 1, dim])]);
    const neg = b.op('Div', [b.reduce('ReduceSum', b.op('Mul', [rows, n]), [2], false), tau]);
    const all = b.op('Concat', [pos, b.op('Reshape', [neg, b.constInt64([-1])])], `${name}/all`, {
      axis: attr.int(0),
    });
    const lse = b.reduce('ReduceLogSumExp', all, [0], false, `${name}/log_z`);
    const shift = b.op('StopGradient', [
      b.op('Add', [lse, b.constFloat([Math.log(k) - Math.log(batch * (1 + k))])]),
    ]);
    const first = b.op('Softplus', [b.op('Sub', [shift, pos])]);
    const rest = b.reduce('ReduceSum', b.op('Softplus', [b.op('Sub', [neg, shift])]), [1], false);
    return b.op('Add', [first, rest], `${name}/per_image`);
  };
  const perImage = b.op('Add', [
    b.op('Mul', [term(g, 'pirl_nce/g'), b.constFloat([lambda])]),
    b.op('Mul', [term(f, 'pirl_nce/f'), b.constFloat([1 - lambda])]),
  ]);
  return b.reduce('ReduceMean', perImage, [0], false, 'loss_value');
}
