import type { GradRule } from '../grad-context.js';
import { binary } from './elementwise.js';

/** y = a − b: da = dy, db = −dy. */
export const subGrad: GradRule = (ctx, node, [dy]) =>
  binary(
    ctx,
    node.inputs,
    node.outputs[0]!,
    () => dy!,
    () => ctx.b.op('Neg', [dy!]),
  );
