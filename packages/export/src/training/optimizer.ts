import { exportError } from '../errors.js';
import { GraphBuilder } from '../graph-builder.js';
import type { IrGraph } from '../ir.js';
import { serializeModel } from '../serialize.js';
import { EBMJS_VERSION } from '../version.js';

/**
 * Which weights AdamW's decoupled decay / LARS's decay-and-trust-ratio apply to, given the
 * weight's name and dims: @ebmjs/train's default (`AdamWOptions.decay`, `LarsOptions.adapt`),
 * rank > 1, i.e. not biases or BatchNorm scales. Only the rank is read, so the rule gives the same
 * answer for a graph weight (ONNX layout) as for its tfjs variable.
 * @experimental
 */
export function decaysByDefault(_name: string, dims: readonly (number | string)[]): boolean {
  return dims.length > 1;
}

/** Per-weight rule: the weight's graph input name and dims. @experimental */
export type WeightRule = (name: string, dims: readonly (number | string)[]) => boolean;

/**
 * The optimizers a training graph can update its weights with.
 * - `adam`: tfjs's `tf.train.adam(lr)` (ε 1e-7; β^t as tfjs's running float32 product).
 * - `adamw`: @ebmjs/train's AdamW (`createOptimizer` 'adamw', and 'adam' with weightDecay 0):
 *   ε 1e-8, bias corrections 1 − β^t to float32 rounding of the exact value, decoupled decay
 *   λ (default 0.01) on the weights `decay` selects (default {@link decaysByDefault}).
 * - `lars`: @ebmjs/train's Lars: momentum (0.9), coupled decay λ (1e-6) and trust ratio with
 *   coefficient η (0.001) on the weights `adapt` selects (default {@link decaysByDefault}).
 * - `sgd`: tfjs's MomentumOptimizer (momentum 0.9), as `createOptimizer` 'sgd'.
 * A weight's `OptimizedValue.decayed` overrides the rule (e.g. decided from its tfjs name).
 * @experimental
 */
export type OptimizerSpec =
  | { kind: 'adam'; beta1?: number; beta2?: number; epsilon?: number }
  | {
      kind: 'adamw';
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      weightDecay?: number;
      decay?: WeightRule;
    }
  | {
      kind: 'lars';
      momentum?: number;
      weightDecay?: number;
      trustCoefficient?: number;
      adapt?: WeightRule;
    }
  | { kind: 'sgd'; momentum?: number };

/** One weight being optimized: its value, gradient and state (graph values), by state name. */
export interface OptimizedValue {
  value: string;
  grad: string;
  /** Optimizer state inputs, by {@link stateSlots}: adam/adamw {m, v}; lars {velocity}; sgd {accumulation}. */
  state: Record<string, string>;
  /**
   * adamw: whether this weight is decayed; lars: whether it is decayed and trust-scaled. Default:
   * the spec's rule applied to `value` and its dims (found among the builder's graph inputs).
   */
  decayed?: boolean;
}

export interface OptimizerOutputs {
  value: string;
  state: Record<string, string>;
}

/** The state slots each optimizer keeps per weight (graph inputs and outputs). */
export function stateSlots(spec: OptimizerSpec): string[] {
  switch (spec.kind) {
    case 'adam':
    case 'adamw':
      return ['m', 'v'];
    case 'lars':
      return ['velocity'];
    default:
      return ['accumulation'];
  }
}

/**
 * @experimental How the graph's optimizer state maps onto the tfjs optimizer that
 * `@ebmjs/train`'s `createOptimizer` builds for the same spec, i.e. onto its `getWeights()` /
 * `setWeights()` names:
 * - `slots`: graph slot (input `<weight>/<slot>`) → suffix of the tfjs name `<variable>/<suffix>`.
 * - `counter`: the step counter tfjs keeps as the scalar `iter` (int32, completed steps; feed
 *   the graph `step` = iter + 1 next); absent where the optimizer saves none (Lars).
 * - `byOrder`: setWeights matches slots by position (the trainable variables' order, all slots
 *   of one variable together), not by name: tfjs's MomentumOptimizer. tfjs's Adam (`adam`) is
 *   positional too, with every `m` before every `v`, and restores β^t from pow() (an ulp off).
 */
export interface OptimizerStateLayout {
  slots: Record<string, string>;
  counter?: 'iter';
  byOrder: boolean;
}

export function optimizerStateLayout(spec: OptimizerSpec): OptimizerStateLayout {
  switch (spec.kind) {
    case 'adam':
      return { slots: { m: 'm', v: 'v' }, counter: 'iter', byOrder: true };
    case 'adamw':
      return { slots: { m: 'm', v: 'v' }, counter: 'iter', byOrder: false };
    case 'lars':
      return { slots: { velocity: 'velocity' }, byOrder: false };
    default:
      return { slots: { accumulation: 'momentum' }, counter: 'iter', byOrder: true };
  }
}

/** The weight's decay/adapt flag: given, else the rule over its graph-input dims. */
function flag(b: GraphBuilder, p: OptimizedValue, rule: WeightRule): boolean {
  if (p.decayed !== undefined) return p.decayed;
  const input = b.graph.inputs.find((i) => i.name === p.value);
  if (input === undefined) {
    throw exportError(
      'INVALID_ARGUMENT',
      `emitOptimizer: weight "${p.value}" needs a decayed flag, or to be a graph input (its dims decide), received a value that is not one.`,
    );
  }
  return rule(p.value, input.shape);
}

/**
 * 1 − β^step in float32, to within a few float32 ulps of the exact value (what AdamW computes in
 * float64 and tfjs rounds): −expm1(step·ln β) by Kahan's trick, expm1(x) = (u−1)·x / ln u with
 * u = eˣ. Pow(float32(β), step) would be off by far more (float32(0.999) is 1.3e-5 relatively
 * off in 1 − β).
 */
function oneMinusPow(b: GraphBuilder, beta: number, step: string, name: string): string {
  const x = b.op('Mul', [step, b.constFloat([Math.log(beta)])], `${name}/x`);
  const u = b.op('Exp', [x]);
  const uMinus1 = b.op('Sub', [u, b.constFloat([1])]);
  const kahan = b.op('Div', [b.op('Mul', [uMinus1, x]), b.op('Log', [u])]);
  // u = 1: x is below float32's resolution at 1 and expm1(x) = x; x < −1: u − 1 is exact enough.
  const far = b.op('Where', [b.op('Less', [x, b.constFloat([-1])]), uMinus1, kahan]);
  const expm1 = b.op('Where', [b.op('Equal', [u, b.constFloat([1])]), x, far]);
  return b.op('Neg', [expm1], name);
}

/**
 * Appends one optimizer step for every weight. `lr` and `step` (1-based, float) are scalar graph
 * inputs, so schedules need no new graph. With c₁ = 1−β₁ᵗ, c₂ = 1−β₂ᵗ:
 * - adam/adamw: m' = β₁m + (1−β₁)g, v' = β₂v + (1−β₂)g², u = (m'/c₁) / (√(v'/c₂) + ε)
 *   (+ λw where decayed, adamw), w' = w − u·lr.
 * - lars: where adapted g' = (g + λw)·r, r = η‖w‖/(‖g‖ + λ‖w‖) (1 if either norm is 0), else
 *   g' = g; v' = μv + g'·lr, w' = w − v'.
 * - sgd (tfjs's MomentumOptimizer): a' = μa + g, w' = w − lr·a'.
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
  if (spec.kind === 'lars') return emitLars(b, spec, values, lr);
  const beta1 = spec.beta1 ?? 0.9;
  const beta2 = spec.beta2 ?? 0.999;
  const one = c(1);
  let correction1: string;
  let correction2: string;
  let decay = 0;
  let rule: WeightRule = decaysByDefault;
  if (spec.kind === 'adamw') {
    correction1 = oneMinusPow(b, beta1, step, 'adamw/correction1');
    correction2 = oneMinusPow(b, beta2, step, 'adamw/correction2');
    decay = spec.weightDecay ?? 0.01;
    rule = spec.decay ?? decaysByDefault;
  } else {
    correction1 = b.op('Sub', [one, b.op('Pow', [c(beta1), step])], 'adam/correction1');
    correction2 = b.op('Sub', [one, b.op('Pow', [c(beta2), step])], 'adam/correction2');
  }
  const eps = c(spec.epsilon ?? (spec.kind === 'adamw' ? 1e-8 : 1e-7));
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
    let direction = b.op('Div', [mHat, denom]);
    if (decay > 0 && flag(b, p, rule))
      direction = b.op('Add', [direction, b.op('Mul', [p.value, c(decay)])]);
    const update = b.op('Mul', [direction, lr]);
    return { value: b.op('Sub', [p.value, update]), state: { m, v } };
  });
}

function emitLars(
  b: GraphBuilder,
  spec: Extract<OptimizerSpec, { kind: 'lars' }>,
  values: readonly OptimizedValue[],
  lr: string,
): OptimizerOutputs[] {
  const c = (x: number) => b.constFloat([x]);
  const mu = c(spec.momentum ?? 0.9);
  const lambda = c(spec.weightDecay ?? 1e-6);
  const eta = c(spec.trustCoefficient ?? 0.001);
  const zero = c(0);
  const rule = spec.adapt ?? decaysByDefault;
  return values.map((p) => {
    let g = p.grad;
    if (flag(b, p, rule)) {
      const rank = b.graph.inputs.find((i) => i.name === p.value)?.shape.length;
      const norm = (x: string) => {
        // Sum over every axis; without the dims, Flatten first (axes [0, 1] of [1, n]).
        const axes = rank === undefined ? [0, 1] : [...Array(rank).keys()];
        const flat = rank === undefined ? b.op('Reshape', [x, b.constInt64([1, -1])]) : x;
        return b.op('Sqrt', [b.reduce('ReduceSumSquare', flat, axes, false)]);
      };
      const wNorm = norm(p.value);
      const gNorm = norm(p.grad);
      const denominator = b.op('Add', [gNorm, b.op('Mul', [wNorm, lambda])]);
      const both = b.op('And', [b.op('Greater', [wNorm, zero]), b.op('Greater', [gNorm, zero])]);
      const ratio = b.op('Where', [
        both,
        b.op('Div', [b.op('Mul', [wNorm, eta]), denominator]),
        c(1),
      ]);
      g = b.op('Mul', [b.op('Add', [p.grad, b.op('Mul', [p.value, lambda])]), ratio]);
    }
    const velocity = b.op('Add', [b.op('Mul', [p.state['velocity']!, mu]), b.op('Mul', [g, lr])]);
    return { value: b.op('Sub', [p.value, velocity]), state: { velocity } };
  });
}

/** @experimental A weight of {@link buildOptimizerStep}: its name and dims. */
export interface OptimizerStepWeight {
  name: string;
  dims: number[];
  /** See {@link OptimizedValue.decayed}. */
  decayed?: boolean;
}

/**
 * @experimental A graph holding only the optimizer update: inputs `lr`, `step`, and per weight
 * `<name>`, `<name>/grad` and `<name>/<slot>`; outputs `<name>/next` and `<name>/<slot>/next`.
 * For checking the update against tfjs's optimizers, or applying gradients computed elsewhere.
 */
export function buildOptimizerStep(
  spec: OptimizerSpec,
  weights: readonly OptimizerStepWeight[],
  opset = 17,
): { model: Uint8Array; slots: string[] } {
  const b = new GraphBuilder('optimizer_step', opset);
  const graph: IrGraph = b.graph;
  const slots = stateSlots(spec);
  const input = (name: string, dims: number[]) => {
    b.reserve(name);
    graph.inputs.push({ name, dataType: 'float32', shape: dims });
  };
  input('lr', []);
  input('step', []);
  const values: OptimizedValue[] = weights.map((w) => {
    input(w.name, w.dims);
    input(`${w.name}/grad`, w.dims);
    for (const s of slots) input(`${w.name}/${s}`, w.dims);
    return {
      value: w.name,
      grad: `${w.name}/grad`,
      state: Object.fromEntries(slots.map((s) => [s, `${w.name}/${s}`])),
      ...(w.decayed === undefined ? {} : { decayed: w.decayed }),
    };
  });
  const updated = emitOptimizer(b, spec, values, 'lr', 'step');
  const output = (value: string, name: string, dims: number[]) => {
    b.reserve(name);
    b.node('Identity', [value], { outputNames: [name] });
    graph.outputs.push({ name, dataType: 'float32', shape: dims });
  };
  weights.forEach((w, i) => {
    output(updated[i]!.value, `${w.name}/next`, w.dims);
    for (const s of slots) output(updated[i]!.state[s]!, `${w.name}/${s}/next`, w.dims);
  });
  const model = serializeModel(graph, {
    irVersion: 8,
    opset,
    producerName: 'ebm.js',
    producerVersion: EBMJS_VERSION,
    docString: 'ebm.js optimizer step (experimental).',
    metadata: {},
  });
  return { model, slots };
}
