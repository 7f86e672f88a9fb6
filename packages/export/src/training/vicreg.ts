import type { GraphBuilder } from '../graph-builder.js';

/** VICReg's weights and constants, as @ebmjs/losses' `vicReg` options. */
export interface VicRegSpec {
  invariance: number;
  variance: number;
  covariance: number;
  gamma: number;
  epsilon: number;
}

/** A [dim, dim] constant with ones off the diagonal (or on it, with `diagonal`). */
export function squareMask(b: GraphBuilder, dim: number, diagonal: boolean, name: string): string {
  const data = new Float32Array(dim * dim);
  for (let i = 0; i < dim; i++)
    for (let j = 0; j < dim; j++) data[i * dim + j] = (i === j) === diagonal ? 1 : 0;
  return b.initializer({ name, dataType: 'float32', dims: [dim, dim], data, isWeight: false });
}

/**
 * VICReg in standard ONNX ops, as @ebmjs/losses' `vicReg` computes it for z1, z2 [N, D]:
 * λ·mean((z1 − z2)²) + μ·[v(z1) + v(z2)]/2 + ν·[c(z1) + c(z2)], with the variance hinge
 * v(z) = mean_j relu(γ − sqrt(Var_j + ε)) and c(z) = Σ_{i≠j} C_ij² / D over the unbiased
 * covariance C. Returns the scalar loss value.
 */
export function emitVicReg(
  b: GraphBuilder,
  z1: string,
  z2: string,
  shape: { batch: number; dim: number },
  spec: VicRegSpec,
): string {
  const { batch: n, dim } = shape;
  const offDiagonal = squareMask(b, dim, false, 'vicreg/off_diagonal');
  const square = (x: string) => b.op('Mul', [x, x]);
  const scaled = (x: string, k: number) => b.op('Mul', [x, b.constFloat([k])]);
  const branch = (z: string, name: string) => {
    const centred = b.op('Sub', [z, b.reduce('ReduceMean', z, [0], true)], `${name}/centred`);
    const gram = b.op('MatMul', [b.transpose(centred, [1, 0]), centred], `${name}/gram`);
    const cov = scaled(gram, 1 / (n - 1));
    const variance = scaled(b.reduce('ReduceSum', square(centred), [0], false), 1 / (n - 1));
    const std = b.op('Sqrt', [b.op('Add', [variance, b.constFloat([spec.epsilon])])]);
    const hinge = b.op('Relu', [b.op('Sub', [b.constFloat([spec.gamma]), std])]);
    const v = b.reduce('ReduceMean', hinge, [0], false, `${name}/variance`);
    const offSum = b.reduce('ReduceSum', b.op('Mul', [square(cov), offDiagonal]), [0, 1], false);
    return { v, c: scaled(offSum, 1 / dim) };
  };
  const a = branch(z1, 'vicreg/z1');
  const c = branch(z2, 'vicreg/z2');
  const invariance = b.reduce('ReduceMean', square(b.op('Sub', [z1, z2])), [0, 1], false);
  const terms = [
    scaled(invariance, spec.invariance),
    scaled(b.op('Add', [a.v, c.v]), spec.variance / 2),
    scaled(b.op('Add', [a.c, c.c]), spec.covariance),
  ];
  return b.op('Add', [b.op('Add', [terms[0]!, terms[1]!]), terms[2]!], 'loss_value');
}
