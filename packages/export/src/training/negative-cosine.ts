import type { GraphBuilder } from '../graph-builder.js';
import { emitL2Normalize } from './l2-normalize.js';

/**
 * BYOL's and SimSiam's symmetrised loss in standard ONNX ops (plus the StopGradient marker), as
 * their recipes compute it with @ebmjs/losses' `negativeCosine` D(p, z) = −mean_i cos(p_i,
 * stopgrad(z_i)): ½ D(p1, t2) + ½ D(p2, t1), where p are the online predictions and t the targets
 * (the other view's projection, or the momentum target's). Returns the scalar loss value.
 */
export function emitSymmetricNegativeCosine(
  b: GraphBuilder,
  predictions: readonly [string, string],
  targets: readonly [string, string],
): string {
  const d = (p: string, t: string, name: string) => {
    const target = emitL2Normalize(b, b.op('StopGradient', [t]), `${name}/target`);
    const cos = b.reduce(
      'ReduceSum',
      b.op('Mul', [emitL2Normalize(b, p, `${name}/prediction`), target]),
      [1],
      false,
    );
    return b.reduce('ReduceMean', cos, [0], false, `${name}/mean_cos`);
  };
  const sum = b.op('Add', [
    d(predictions[0], targets[1], 'negative_cosine/1'),
    d(predictions[1], targets[0], 'negative_cosine/2'),
  ]);
  return b.op('Mul', [sum, b.constFloat([-0.5])], 'loss_value');
}
