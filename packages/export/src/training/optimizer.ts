import type { GraphBuilder } from '../graph-builder.js';

/**
 * The optimizers a training graph can update its weights with, with tfjs's defaults (so the
 * graph's steps equal `tf.train.adam(lr)` / `tf.train.momentum(lr, m)` ones).
 * @experimental
 */
export type OptimizerSpec =
  | { kind: 'adam'; beta1?: number; beta2?: number; epsilon?: number }
  | { kind: 'sgd'; momentum?: number };

/** One weight being optimized: its value, gradient and state (graph values), by state name. */
export interface OptimizedValue {
  value: string;
  grad: string;
  /** Optimizer state inputs: adam {m, v}; sgd {accumulation}. */
  state: Record<string, string>;
}

export interface OptimizerOutputs {
  value: string;
  state: Record<string, string>;
}

/** The state slots each optimizer keeps per weight (graph inputs and outputs). */
export function stateSlots(spec: OptimizerSpec): string[] {
  return spec.kind === 'adam' ? ['m', 'v'] : ['accumulation'];
}

/**
 * Appends one optimizer step for every weight. `lr` and `step` (1-based, float) are scalar graph
 * inputs, so schedules need no new graph. Adam, as tfjs computes it:
 *   m' = β₁m + (1−β₁)g,  v' = β₂v + (1−β₂)g²,  w' = w − lr·(m'/(1−β₁ᵗ)) / (√(v'/(1−β₂ᵗ)) + ε).
 * SGD with momentum (tfjs's MomentumOptimizer): a' = μa + g, w' = w − lr·a'.
 */
export function emitOptimizer(
  b: GraphBuilder,
  spec: OptimizerSpec,
  values: readonly OptimizedValue[],
  lr: string,
  step: string,
): OptimizerOutputs[] {
  const c = (x: number) => b.constFloat([x]);
  if (spec.kind === 'sgd') {
    const mu = c(spec.momentum ?? 0.9);
    return values.map((p) => {
      const acc = b.op('Add', [b.op('Mul', [p.state['accumulation']!, mu]), p.grad]);
      return {
        value: b.op('Sub', [p.value, b.op('Mul', [acc, lr])]),
        state: { accumulation: acc },
      };
    });
  }
  const beta1 = spec.beta1 ?? 0.9;
  const beta2 = spec.beta2 ?? 0.999;
  const eps = c(spec.epsilon ?? 1e-7);
  const one = c(1);
  const correction1 = b.op('Sub', [one, b.op('Pow', [c(beta1), step])], 'adam/correction1');
  const correction2 = b.op('Sub', [one, b.op('Pow', [c(beta2), step])], 'adam/correction2');
  return values.map((p) => {
    const m = b.op('Add', [
      b.op('Mul', [p.state['m']!, c(beta1)]),
      b.op('Mul', [p.grad, c(1 - beta1)]),
    ]);
    const g2 = b.op('Mul', [p.grad, p.grad]);
    const v = b.op('Add', [
      b.op('Mul', [p.state['v']!, c(beta2)]),
      b.op('Mul', [g2, c(1 - beta2)]),
    ]);
    const mHat = b.op('Div', [m, correction1]);
    const denom = b.op('Add', [b.op('Sqrt', [b.op('Div', [v, correction2])]), eps]);
    const update = b.op('Mul', [b.op('Div', [mHat, denom]), lr]);
    return { value: b.op('Sub', [p.value, update]), state: { m, v } };
  });
}
