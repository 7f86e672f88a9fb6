import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertContainer } from '../convert-graph.js';
import { exportError } from '../errors.js';
import { GraphBuilder } from '../graph-builder.js';
import { attr } from '../ir.js';
import { NCHW_TO_NHWC } from '../layers/layout.js';
import { resolveOptions } from '../options.js';
import { removeDeadNodes, topologicalSort } from '../passes/graph-utils.js';
import { eliminateTransposes } from '../passes/transpose-elimination.js';
import { serializeModel } from '../serialize.js';
import { EBMJS_VERSION } from '../version.js';
import { differentiate } from './autodiff.js';
import { lowerBatchNormTraining, useBatchStatistics } from './batch-norm-training.js';
import { maxPoolUsesMask } from './grad-rules/max-pool.js';
import { emitNtXent } from './nt-xent.js';
import { emitOptimizer, type OptimizerSpec, stateSlots } from './optimizer.js';
import { type ParameterSource, TrainingConversionContext } from './parameters.js';
import { inferShapes } from './shapes.js';

/** @experimental Options of {@link buildSimclrStep}. */
export interface SimclrStepOptions {
  /** Images per view (the graph sees 2·batchSize). */
  batchSize: number;
  /** NT-Xent temperature τ. Default 0.5. */
  temperature?: number;
  /** Default Adam with tfjs's defaults. */
  optimizer?: OptimizerSpec;
  /** Also output every weight's gradient as `<weight>/grad` (for tests). Default false. */
  outputGradients?: boolean;
  /** ONNX opset. Default 17. */
  opset?: number;
  /**
   * Layout of the two view inputs: 'NCHW' (default, ONNX's) or 'NHWC' (tfjs's, as the training
   * loop's augmentations produce them, so a step needs no transpose outside the graph).
   */
  viewLayout?: 'NCHW' | 'NHWC';
}

/** @experimental One tensor the step graph takes and returns (a weight, a statistic, a state). */
export interface StepTensor {
  /** Graph input name; the graph outputs its new value as `next`. */
  input: string;
  next: string;
  dims: number[];
  /** Initial value (weights: the tfjs model's, in ONNX layout; optimizer state: zeros). */
  initial: Float32Array;
  /** The tfjs variable it came from (weights and moving statistics). */
  source?: ParameterSource;
  kind: 'weight' | 'moving-statistic' | 'optimizer-state';
}

/** @experimental The compiled SimCLR training step: ONNX bytes plus how to feed them. */
export interface SimclrStepGraph {
  model: Uint8Array;
  /** Inputs fed each step: two views ([B, C, H, W], or [B, H, W, C] under 'NHWC'), `lr` and `step` scalars. */
  inputs: { view1: string; view2: string; lr: string; step: string };
  viewDims: number[];
  /** Output: the scalar NT-Xent loss. */
  loss: string;
  /** Everything carried from step to step, in graph-input order. */
  state: StepTensor[];
  /** weight input name → gradient output name (only with `outputGradients`). */
  gradients: Map<string, string>;
  optimizer: OptimizerSpec;
}

/**
 * @experimental Compiles one SimCLR training step of tfjs `encoder` → `head` into ONE standard
 * ONNX graph: both views concatenated into a batch of 2B (BatchNorm in training mode over it,
 * moving statistics as outputs), NT-Xent, the reverse-mode gradient of every trainable weight,
 * and the optimizer update. Runs on any ONNX runtime with opset 17; see `OrtTrainingEngine`.
 */
export async function buildSimclrStep(
  encoder: LayersModel,
  head: LayersModel,
  options: SimclrStepOptions,
): Promise<SimclrStepGraph> {
  const batch = options.batchSize;
  if (!Number.isInteger(batch) || batch < 2) {
    throw exportError(
      'INVALID_ARGUMENT',
      `buildSimclrStep: batchSize must be an integer ≥ 2, received ${String(batch)}.`,
    );
  }
  const temperature = options.temperature ?? 0.5;
  const optimizer = options.optimizer ?? { kind: 'adam' };
  const opts = resolveOptions({
    layout: 'NCHW',
    opset: options.opset ?? 17,
    dynamicBatch: false,
    batchSize: 2 * batch,
  });
  const b = new GraphBuilder('simclr_step', opts.opset);
  const ctx = new TrainingConversionContext(b, opts);
  const graph = b.graph;

  const shape = encoder.inputs[0]!.shape;
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw exportError(
      'UNSUPPORTED',
      `buildSimclrStep: the encoder needs a fixed [H, W, C] image input, received [${shape.join(', ')}].`,
    );
  }
  const [h, w, c] = shape.slice(1) as number[];
  const nhwcViews = options.viewLayout === 'NHWC';
  const viewDims = nhwcViews ? [batch, h!, w!, c!] : [batch, c!, h!, w!];
  const inputs = { view1: 'view1', view2: 'view2', lr: 'lr', step: 'step' };
  for (const name of Object.values(inputs)) b.reserve(name);
  graph.inputs.push(
    { name: 'view1', dataType: 'float32', shape: viewDims },
    { name: 'view2', dataType: 'float32', shape: viewDims },
  );
  const both = b.op('Concat', ['view1', 'view2'], 'views', { axis: attr.int(0) });
  const nhwc = nhwcViews ? both : b.transpose(both, NCHW_TO_NHWC, 'views/to_nhwc');
  const [features] = await convertContainer(ctx, encoder, [nhwc]);
  const [z] = await convertContainer(ctx, head, [features!]);
  const loss = emitNtXent(b, z!, batch, temperature);
  b.reserve('loss');
  graph.outputs.push({ name: 'loss', dataType: 'float32', shape: [] });
  b.node('Identity', [loss], { outputNames: ['loss'] });
  removeDeadNodes(graph);
  eliminateTransposes(b);
  topologicalSort(graph);

  // Weights become graph inputs (state carried by the caller), in a stable order.
  const state: StepTensor[] = [];
  const weights: string[] = [];
  for (const [name, source] of ctx.sources) {
    const t = graph.initializers.get(name);
    if (t === undefined) continue;
    graph.initializers.delete(name);
    graph.inputs.push({ name, dataType: 'float32', shape: t.dims });
    const original = source.variable.originalName;
    const statistic = /moving_(mean|variance)$/.test(original);
    const trainable = !statistic && source.variable.trainable;
    if (trainable) weights.push(name);
    state.push({
      input: name,
      next: '',
      dims: t.dims,
      initial: t.data as Float32Array,
      source,
      kind: statistic || !trainable ? 'moving-statistic' : 'weight',
    });
  }
  for (const t of graph.initializers.values()) {
    if (t.isWeight) {
      throw exportError(
        'UNSUPPORTED',
        `buildSimclrStep: weight "${t.name}" was rewritten by the exporter and cannot be trained.`,
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
  const grads = differentiate(b, shapes, loss, weights);

  graph.inputs.push(
    { name: 'lr', dataType: 'float32', shape: [] },
    { name: 'step', dataType: 'float32', shape: [] },
  );
  const slots = stateSlots(optimizer);
  const optimized = weights.map((wName) => ({
    value: wName,
    grad: grads.get(wName)!,
    state: Object.fromEntries(slots.map((s) => [s, `${wName}/${s}`])),
  }));
  const updated = emitOptimizer(b, optimizer, optimized, 'lr', 'step');

  const bind = (value: string, name: string, dims: number[]) => {
    b.reserve(name);
    b.node('Identity', [value], { outputNames: [name] });
    graph.outputs.push({ name, dataType: 'float32', shape: dims });
  };
  for (const s of state) {
    const stat = stats.find((x) => x.mean === s.input || x.variance === s.input);
    const wi = weights.indexOf(s.input);
    s.next = `${s.input}/next`;
    if (stat !== undefined)
      bind(stat.mean === s.input ? stat.newMean : stat.newVariance, s.next, s.dims);
    else if (wi >= 0) bind(updated[wi]!.value, s.next, s.dims);
    else bind(s.input, s.next, s.dims);
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
  if (options.outputGradients) {
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
    docString: 'ebm.js SimCLR training step (experimental): forward, NT-Xent, backward, optimizer.',
    metadata: {},
  });
  return { model, inputs, viewDims, loss: 'loss', state, gradients, optimizer };
}
