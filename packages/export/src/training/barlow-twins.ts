import type { GraphBuilder } from '../graph-builder.js';
import { squareMask } from './vicreg.js';

/** Barlow Twins' constants, as @ebmjs/losses' `barlowTwins` options. */
export interface BarlowTwinsSpec {
  lambda: number;
  epsilon: number;
}

/**
 * Barlow Twins in standard ONNX ops, as @ebmjs/losses' `barlowTwins` computes it for z1, z2
 * [N, D]: each view standardised per dimension with the biased batch variance,
 * C = ẑ1ᵀ ẑ2 / N, L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij². Returns the scalar loss value.
 */
export function emitBarlowTwins(
  b: GraphBuilder,
  z1: string,
  z2: string,
  shape: { batch: number; dim: number },
  spec: BarlowTwinsSpec,
): string {
  const { batch: n, dim } = shape;
  const square = (x: string) => b.op('Mul', [x, x]);
  const standardise = (z: string, name: string) => {
    const centred = b.op('Sub', [z, b.reduce('ReduceMean', z, [0], true)], `${name}/centred`);
    const variance = b.reduce('ReduceMean', square(centred), [0], true);
    const std = b.op('Sqrt', [b.op('Add', [variance, b.constFloat([spec.epsilon])])]);
    return b.op('Div', [centred, std], `${name}/standardised`);
  };
  const cross = b.op('MatMul', [
    b.transpose(standardise(z1, 'barlow_twins/z1'), [1, 0]),
    standardise(z2, 'barlow_twins/z2'),
  ]);
  const c = b.op('Mul', [cross, b.constFloat([1 / n])], 'barlow_twins/cross_correlation');
  const eye = squareMask(b, dim, true, 'barlow_twins/identity');
  const offDiagonal = squareMask(b, dim, false, 'barlow_twins/off_diagonal');
  const onTerm = b.op('Mul', [b.op('Sub', [b.constFloat([1]), c]), eye]);
  const on = b.reduce('ReduceSum', square(onTerm), [0, 1], false, 'barlow_twins/on_diagonal');
  const off = b.reduce('ReduceSum', b.op('Mul', [square(c), offDiagonal]), [0, 1], false);
  return b.op('Add', [on, b.op('Mul', [off, b.constFloat([spec.lambda])])], 'loss_value');
}
