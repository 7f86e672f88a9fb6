import { channelAffine } from '../batch-norm-training.js';
import type { GradRule } from '../grad-context.js';

/**
 * The training-mode BatchNorm node (see ../batch-norm-training.ts; outputs y, batch mean μ,
 * batch variance, 1/σ) in closed form rather than through its composed reductions. With
 * k = mean(dy·x̂) = (mean(dy·x) − μ·mean(dy))/σ:
 *   dβ = Σ dy,  dγ = N·k,  dx = γ/σ·(dy − mean(dy) − x̂·k) = A·dy + (B·x + C)
 * per channel, A = γ/σ, B = −A·k/σ, C = −A·mean(dy) − B·μ; B·x + C is one fused affine pass.
 */
export const batchNormTrainingGrad: GradRule = (ctx, node, [dy]) => {
  const [x, gamma, beta] = node.inputs as [string, string, string];
  const [, mean, , inv] = node.outputs as [string, string, string, string];
  const xs = ctx.shape(x);
  const axes = xs.map((_, i) => i).filter((i) => i !== 1);
  const count = axes.reduce((n, a) => n * xs[a]!, 1);
  const channels = [xs[1]!];
  const b = ctx.b;
  const meanDy = b.reduce('ReduceMean', dy!, axes, true);
  const meanDyX = b.reduce('ReduceMean', b.op('Mul', [dy!, x]), axes, true);
  const k = b.op('Mul', [b.op('Sub', [meanDyX, b.op('Mul', [mean, meanDy])]), inv]);
  const n = b.constFloat([count]);
  const dgamma = ctx.needs(gamma) ? ctx.reshape(b.op('Mul', [k, n]), channels) : undefined;
  const dbeta = ctx.needs(beta) ? ctx.reshape(b.op('Mul', [meanDy, n]), channels) : undefined;
  let dx: string | undefined;
  if (ctx.needs(x)) {
    const a = b.op('Mul', [ctx.reshape(gamma, ctx.shape(inv)), inv]);
    const bx = b.op('Neg', [b.op('Mul', [b.op('Mul', [a, k]), inv])]);
    const c = b.op('Neg', [b.op('Add', [b.op('Mul', [a, meanDy]), b.op('Mul', [bx, mean])])]);
    const affine = channelAffine(b, x, ctx.reshape(bx, channels), ctx.reshape(c, channels), xs[1]!);
    dx = b.op('Add', [b.op('Mul', [dy!, a]), affine]);
  }
  return [dx, dgamma, dbeta];
};
