import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { exportError } from '../errors.js';
import { GraphBuilder } from '../graph-builder.js';
import { type ResolvedOptions, resolveOptions } from '../options.js';
import { removeDeadNodes, topologicalSort } from '../passes/graph-utils.js';
import { eliminateTransposes } from '../passes/transpose-elimination.js';
import { serializeModel } from '../serialize.js';
import { EBMJS_VERSION } from '../version.js';
import { differentiate, lowerStopGradient } from './autodiff.js';
import { lowerBatchNormTraining, useBatchStatistics } from './batch-norm-training.js';
import { maxPoolUsesMask } from './grad-rules/max-pool.js';
import { emitOptimizer, type OptimizerSpec, stateSlots } from './optimizer.js';
import { type ParameterSource, TrainingConversionContext } from './parameters.js';
import { inferShapes } from './shapes.js';

/** @experimental One tensor the step graph takes and returns (a weight, a statistic, a state). */
export interface StepTensor {
  /** Graph input name; the graph outputs its new value as `next`. */
  input: string;
  next: string;
  dims: number[];
  /** Initial value (weights: the tfjs model's, in ONNX layout; optimizer state: zeros). */
  initial: Float32Array;
  /** The tfjs variable it came from (weights, moving statistics, momentum targets). */
  source?: ParameterSource;
  /**
   * 'momentum-target': a weight or statistic of a momentum (EMA) copy, following its online
   * counterpart after the optimizer step: t ← m·t + (1 − m)·online.
   */
  kind: 'weight' | 'moving-statistic' | 'optimizer-state' | 'momentum-target';
}

/** @experimental A named float tensor the step graph takes or returns each step. */
export interface StepValue {
  name: string;
  dims: number[];
}

/** @experimental A compiled training step: ONNX bytes plus how to feed them. */
export interface StepGraph {
  model: Uint8Array;
  /** The per-step data inputs (views, a queue of negatives), all float32. */
  data: StepValue[];
  /** Scalar inputs: the learning rate, the 1-based step, and the EMA momentum when it has targets. */
  scalars: { lr: string; step: string; momentum?: string };
  /** Output: the scalar loss. */
  loss: string;
  /** Outputs returned every step besides the loss and the state (MoCo's keys). */
  outputs: StepValue[];
  /** Everything carried from step to step, in graph-input order. */
  state: StepTensor[];
  /** weight input name → gradient output name (only with `outputGradients`). */
  gradients: Map<string, string>;
  optimizer: OptimizerSpec;
}

/** A fresh builder and conversion context for a step graph over fixed batches of `batchSize`. */
export function startStepGraph(
  name: string,
  batchSize: number,
  opset = 17,
): { b: GraphBuilder; ctx: TrainingConversionContext; opts: ResolvedOptions } {
  const opts = resolveOptions({ layout: 'NCHW', opset, dynamicBatch: false, batchSize });
  const b = new GraphBuilder(name, opts.opset);
  return { b, ctx: new TrainingConversionContext(b, opts), opts };
}

/** The encoder's fixed [H, W, C] image input, or an UNSUPPORTED error naming `where`. */
export function imageInputShape(encoder: LayersModel, where: string): [number, number, number] {
  const shape = encoder.inputs[0]!.shape;
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw exportError(
      'UNSUPPORTED',
      `${where}: the encoder needs a fixed [H, W, C] image input, received [${shape.join(', ')}].`,
    );
  }
  return shape.slice(1) as [number, number, number];
}

/** Each weight of the momentum copy `target` → the same-named, same-shaped weight of `online`. */
export function pairMomentumTargets(
  target: LayersModel,
  online: LayersModel,
  where: string,
): [LayerVariable, LayerVariable][] {
  const byName = new Map(online.weights.map((w) => [w.originalName, w]));
  if (target.weights.length !== online.weights.length) {
    throw exportError(
      'SHAPE_MISMATCH',
      `${where}: the momentum copy ${target.name} holds ${target.weights.length} weights, its online model ${online.name} ${online.weights.length}.`,
    );
  }
  return target.weights.map((t) => {
    const w = byName.get(t.originalName);
    if (w === undefined || w.shape.join() !== t.shape.join()) {
      throw exportError(
        'SHAPE_MISMATCH',
        `${where}: weight ${t.originalName} of ${target.name} has no counterpart of the same shape in ${online.name}.`,
      );
    }
    return [t, w];
  });
}

/** What a recipe's graph builder hands over once its forward pass and loss are in `b`. */
export interface StepGraphParts {
  b: GraphBuilder;
  ctx: TrainingConversionContext;
  opts: ResolvedOptions;
  /** Which builder, for error messages and the docstring ("buildSimclrStep"). */
  where: string;
  docString: string;
  /** The scalar loss value. */
  loss: string;
  /** Data inputs the builder already declared. */
  data: StepValue[];
  /** Forward values to return every step under the given names. */
  outputs?: (StepValue & { value: string })[];
  optimizer: OptimizerSpec;
  outputGradients?: boolean;
  /** Momentum copies: each target variable → the online variable it follows. */
  momentumTargets?: Map<LayerVariable, LayerVariable>;
}

/**
 * Turns a forward graph and its loss into the training step: the weights become inputs carried
 * as state, BatchNorm computes batch statistics (moving averages as outputs), the loss is
 * differentiated with respect to the trainable weights, the optimizer updates them, momentum
 * targets follow their updated online values, and the graph is lowered to standard ONNX.
 */
export function finishStepGraph(parts: StepGraphParts): StepGraph {
  const { b, ctx, opts, where, optimizer } = parts;
  const graph = b.graph;
  const bind = (value: string, name: string, dims: number[]) => {
    b.reserve(name);
    // (A weight's summed gradient may already carry the name `<weight>/grad`.)
    if (value !== name) b.node('Identity', [value], { outputNames: [name] });
    graph.outputs.push({ name, dataType: 'float32', shape: dims });
  };
  bind(parts.loss, 'loss', []);
  for (const o of parts.outputs ?? []) bind(o.value, o.name, o.dims);
  removeDeadNodes(graph);
  eliminateTransposes(b);
  topologicalSort(graph);

  // Weights become graph inputs (state carried by the caller), in a stable order.
  const targets = parts.momentumTargets ?? new Map();
  const state: StepTensor[] = [];
  const weights: string[] = [];
  for (const [name, source] of ctx.sources) {
    const t = graph.initializers.get(name);
    if (t === undefined) continue;
    graph.initializers.delete(name);
    graph.inputs.push({ name, dataType: 'float32', shape: t.dims });
    const statistic = /moving_(mean|variance)$/.test(source.variable.originalName);
    const trainable = !statistic && source.variable.trainable;
    if (trainable) weights.push(name);
    state.push({
      input: name,
      next: '',
      dims: t.dims,
      initial: t.data as Float32Array,
      source,
      kind: targets.has(source.variable)
        ? 'momentum-target'
        : trainable
          ? 'weight'
          : 'moving-statistic',
    });
  }
  for (const t of graph.initializers.values()) {
    if (t.isWeight) {
      throw exportError(
        'UNSUPPORTED',
        `${where}: weight "${t.name}" was rewritten by the exporter and cannot be trained.`,
      );
    }
  }

  const momentumOf = (meanInput: string): number => {
    const config = ctx.sources.get(meanInput)?.layer.getConfig() ?? {};
    return Number((config as Record<string, unknown>)['momentum'] ?? 0.99);
  };
  const stats = useBatchStatistics(b, momentumOf);
  // MaxPool's gradient needs its argmax Indices output (a slower MaxPool kernel in ORT) unless
  // the mask form applies.
  const forwardShapes = inferShapes(graph);
  for (const node of graph.nodes) {
    if (node.opType !== 'MaxPool' || node.outputs.length > 1) continue;
    if (maxPoolUsesMask(graph, node, forwardShapes.get(node.inputs[0]!)!)) continue;
    node.outputs.push(b.uniqueName(`${node.name}/indices`));
  }
  const shapes = inferShapes(graph);
  const grads = differentiate(b, shapes, parts.loss, weights);
  lowerStopGradient(b);

  const scalars: StepGraph['scalars'] = { lr: 'lr', step: 'step' };
  if (targets.size > 0) scalars.momentum = 'momentum';
  for (const name of Object.values(scalars)) {
    b.reserve(name);
    graph.inputs.push({ name, dataType: 'float32', shape: [] });
  }
  const slots = stateSlots(optimizer);
  const optimized = weights.map((wName) => ({
    value: wName,
    grad: grads.get(wName)!,
    state: Object.fromEntries(slots.map((s) => [s, `${wName}/${s}`])),
  }));
  const updated = emitOptimizer(b, optimizer, optimized, scalars.lr, scalars.step);

  // The value each online tensor takes at the end of the step (what its targets follow).
  const nextValue = (s: StepTensor): string => {
    const stat = stats.find((x) => x.mean === s.input || x.variance === s.input);
    const wi = weights.indexOf(s.input);
    if (stat !== undefined) return stat.mean === s.input ? stat.newMean : stat.newVariance;
    return wi >= 0 ? updated[wi]!.value : s.input;
  };
  const byVariable = new Map(state.map((s) => [s.source!.variable, s]));
  const m = scalars.momentum;
  const rest = m === undefined ? '' : b.op('Sub', [b.constFloat([1]), m], 'momentum/complement');
  for (const s of state) {
    s.next = `${s.input}/next`;
    if (s.kind !== 'momentum-target') {
      bind(nextValue(s), s.next, s.dims);
      continue;
    }
    const online = byVariable.get(targets.get(s.source!.variable)!);
    if (online === undefined || online.kind === 'momentum-target') {
      throw exportError(
        'INVALID_ARGUMENT',
        `${where}: momentum target "${s.source!.variable.name}" follows a variable the step does not compute.`,
      );
    }
    const ema = b.op('Add', [b.op('Mul', [s.input, m!]), b.op('Mul', [nextValue(online), rest])]);
    bind(ema, s.next, s.dims);
  }
  optimized.forEach((p, i) => {
    const dims = state.find((s) => s.input === p.value)!.dims;
    for (const slot of slots) {
      const input = p.state[slot]!;
      b.reserve(input);
      graph.inputs.push({ name: input, dataType: 'float32', shape: dims });
      const next = `${input}/next`;
      bind(updated[i]!.state[slot]!, next, dims);
      const size = dims.reduce((a, d) => a * d, 1);
      state.push({ input, next, dims, initial: new Float32Array(size), kind: 'optimizer-state' });
    }
  });
  const gradients = new Map<string, string>();
  if (parts.outputGradients) {
    for (const wName of weights) {
      const dims = state.find((s) => s.input === wName)!.dims;
      bind(grads.get(wName)!, `${wName}/grad`, dims);
      gradients.set(wName, `${wName}/grad`);
    }
  }
  lowerBatchNormTraining(b, shapes);
  removeDeadNodes(graph);
  topologicalSort(graph);

  const model = serializeModel(graph, {
    irVersion: opts.irVersion,
    opset: opts.opset,
    producerName: 'ebm.js',
    producerVersion: EBMJS_VERSION,
    docString: parts.docString,
    metadata: {},
  });
  return {
    model,
    data: parts.data,
    scalars,
    loss: 'loss',
    outputs: (parts.outputs ?? []).map(({ name, dims }) => ({ name, dims })),
    state,
    gradients,
    optimizer,
  };
}
