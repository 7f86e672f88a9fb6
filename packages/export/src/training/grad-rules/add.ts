import type { GradRule } from '../grad-context.js';
import { binary } from './elementwise.js';

/** y = a + b (broadcasting): da = dy, db = dy, each summed to its input's shape. */
export const addGrad: GradRule = (ctx, node, [dy]) =>
  binary(
    ctx,
    node.inputs,
    node.outputs[0]!,
    () => dy!,
    () => dy!,
  );
