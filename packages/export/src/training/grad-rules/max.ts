import { exportError } from '../../errors.js';
import type { GradRule } from '../grad-context.js';
import { binary } from './elementwise.js';

/** y = max(a, b) (two inputs): a takes dy where a ≥ b, b where a < b (tfjs's tie rule). */
export const maxGrad: GradRule = (ctx, node, [dy]) => {
  const [a, b] = node.inputs as [string, string];
  if (node.inputs.length !== 2) {
    throw exportError(
      'UNSUPPORTED',
      `training: Max ${node.name} with ${node.inputs.length} inputs; the gradient rule takes 2.`,
      { opType: 'Max', node: node.name },
    );
  }
  return binary(
    ctx,
    node.inputs,
    node.outputs[0]!,
    () => ctx.b.op('Mul', [dy!, ctx.mask('GreaterOrEqual', a, b)]),
    () => ctx.b.op('Mul', [dy!, ctx.mask('Less', a, b)]),
  );
};
