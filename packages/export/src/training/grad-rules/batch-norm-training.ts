import type { GradRule } from '../grad-context.js';

/**
 * The training-mode BatchNorm node (see ../batch-norm-training.ts; outputs y, batch mean,
 * batch variance, x̂, 1/σ) in the closed form rather than through its composed reductions:
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)).
 */
export const batchNormTrainingGrad: GradRule = (ctx, node, [dy]) => {
  const [x, gamma, beta] = node.inputs as [string, string, string];
  const [, , , xhat, inv] = node.outputs as [string, string, string, string, string];
  const xs = ctx.shape(x);
  const axes = xs.map((_, i) => i).filter((i) => i !== 1);
  const count = axes.reduce((n, a) => n * xs[a]!, 1);
  const channels = [xs[1]!];
  const b = ctx.b;
  const meanDy = b.reduce('ReduceMean', dy!, axes, true);
  const meanDyX = b.reduce('ReduceMean', b.op('Mul', [dy!, xhat]), axes, true);
  const n = b.constFloat([count]);
  const dgamma = ctx.needs(gamma) ? ctx.reshape(b.op('Mul', [meanDyX, n]), channels) : undefined;
  const dbeta = ctx.needs(beta) ? ctx.reshape(b.op('Mul', [meanDy, n]), channels) : undefined;
  let dx: string | undefined;
  if (ctx.needs(x)) {
    const g = ctx.reshape(gamma, ctx.shape(inv));
    const scale = b.op('Mul', [g, inv]);
    const centred = b.op('Sub', [dy!, meanDy]);
    dx = b.op('Mul', [b.op('Sub', [centred, b.op('Mul', [xhat, meanDyX])]), scale]);
  }
  return [dx, dgamma, dbeta];
};
