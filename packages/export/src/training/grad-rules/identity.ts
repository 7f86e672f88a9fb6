import type { GradRule } from '../grad-context.js';

/** y = x: dx = dy. */
export const identityGrad: GradRule = (_ctx, _node, [dy]) => [dy];
