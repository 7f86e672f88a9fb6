import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertContainer } from '../convert-graph.js';
import { exportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { NCHW_TO_NHWC } from '../layers/layout.js';
import { topologicalSort } from '../passes/graph-utils.js';
import { emitL2Normalize } from './l2-normalize.js';
import type { OptimizerSpec } from './optimizer.js';
import { emitPirlNce } from './pirl-nce.js';
import { finishStepGraph, type StepGraph, startStepGraph } from './step-graph.js';

/** @experimental Options of {@link buildPirlStep}. */
export interface PirlStepOptions {
  /** Images per step. */
  batchSize: number;
  /** Memory-bank negatives per image (fed each step as [B, K, D]). */
  negatives: number;
  /** NCE temperature τ. Default 0.07 (PIRL). */
  temperature?: number;
  /** Weight λ of the patches-to-memory term. Default 0.5 (PIRL). */
  lambda?: number;
  /** Default Adam with tfjs's defaults. */
  optimizer?: OptimizerSpec;
  /** Also output every weight's gradient as `<weight>/grad` (for tests). Default false. */
  outputGradients?: boolean;
  /** ONNX opset. Default 17. */
  opset?: number;
  /** Layout of the image and patch inputs: 'NCHW' (default) or 'NHWC' (tfjs's). */
  viewLayout?: 'NCHW' | 'NHWC';
}

/** @experimental The compiled PIRL training step. */
export interface PirlStepGraph extends StepGraph {
  inputs: {
    /** The augmented images [B, …]. */
    image: string;
    /** The jigsaw patches, one input per patch position ([B, …] each), in the joint model's order. */
    patches: string[];
    /** The images' memory-bank entries [B, D]. */
    memory: string;
    /** K bank entries of other images per image [B, K, D]. */
    negatives: string;
    lr: string;
    step: string;
  };
  /** Output: f of the images, L2-normalised [B, D] (what the memory bank moves towards). */
  embeddings: string;
}

/**
 * @experimental Compiles one PIRL training step of `joint` (@ebmjs/models' `PirlHeads.joint`:
 * inputs image, patch_0 … patch_{n−1}; outputs f, g over one shared trunk) into ONE standard ONNX
 * graph: the trunk in training mode on the images and on every patch (each call normalising over
 * its own batch and updating the moving statistics in call order), PIRL's NCE against the fed
 * memory entries and negatives, the gradient and the optimizer update. The memory bank itself
 * stays outside: the caller feeds its rows and updates it from the `embeddings` output.
 */
export async function buildPirlStep(
  joint: LayersModel,
  options: PirlStepOptions,
): Promise<PirlStepGraph> {
  const where = 'buildPirlStep';
  const batch = options.batchSize;
  const k = options.negatives;
  for (const [name, value, min] of [
    ['batchSize', batch, 1],
    ['negatives', k, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw exportError(
        'INVALID_ARGUMENT',
        `${where}: ${name} must be a positive integer, received ${String(value)}.`,
      );
    }
  }
  const [fOut, gOut] = joint.outputs;
  const dim = fOut?.shape.at(-1);
  if (joint.outputs.length !== 2 || typeof dim !== 'number' || gOut!.shape.at(-1) !== dim) {
    throw exportError(
      'UNSUPPORTED',
      `${where}: the model needs two outputs f and g of one fixed size (PirlHeads.joint), received ${joint.outputs.length} outputs.`,
    );
  }
  const spatial = joint.inputs.map((input) => input.shape.slice(1));
  if (spatial.some((s) => s.length !== 3 || s.some((d) => d === null))) {
    throw exportError(
      'UNSUPPORTED',
      `${where}: every input needs a fixed [H, W, C] shape, received ${spatial.map((s) => `[${s.join(', ')}]`).join(', ')}.`,
    );
  }
  const optimizer = options.optimizer ?? { kind: 'adam' };
  const { b, ctx, opts } = startStepGraph('pirl_step', batch, options.opset);
  const nhwcViews = options.viewLayout === 'NHWC';
  const inputs: PirlStepGraph['inputs'] = {
    image: 'image',
    patches: spatial.slice(1).map((_, i) => `patch_${i}`),
    memory: 'memory',
    negatives: 'negatives',
    lr: 'lr',
    step: 'step',
  };
  const views = [inputs.image, ...inputs.patches].map((name, i) => {
    const [h, w, c] = spatial[i] as number[];
    return { name, dims: nhwcViews ? [batch, h!, w!, c!] : [batch, c!, h!, w!] };
  });
  const data = [
    ...views,
    { name: inputs.memory, dims: [batch, dim] },
    { name: inputs.negatives, dims: [batch, k, dim] },
  ];
  for (const d of data) {
    b.reserve(d.name);
    b.graph.inputs.push({ name: d.name, dataType: 'float32', shape: d.dims });
  }
  const nhwc = views.map(({ name }) =>
    nhwcViews ? name : b.transpose(name, NCHW_TO_NHWC, `${name}/to_nhwc`),
  );
  const [f, g] = await convertContainer(ctx, joint, nhwc);
  // The trunk's BatchNorm statistics update once per call, in the order tfjs makes the calls:
  // `PirlHeads.applyF` (the image), then `applyG`, whose functional model runs its patch branches
  // from the last input to the first (measured on tfjs-layers 4.22).
  orderBranches(b, [inputs.image, ...[...inputs.patches].reverse()]);
  const loss = emitPirlNce(b, f!, g!, inputs.memory, inputs.negatives, {
    batch,
    negatives: k,
    dim,
    temperature: options.temperature ?? 0.07,
    lambda: options.lambda ?? 0.5,
  });
  const step = finishStepGraph({
    b,
    ctx,
    opts,
    where,
    docString: 'ebm.js PIRL training step (experimental): f, g, NCE against the bank, backward.',
    loss,
    data,
    outputs: [
      { value: emitL2Normalize(b, f!, 'embeddings'), name: 'embeddings', dims: [batch, dim] },
    ],
    optimizer,
    outputGradients: options.outputGradients ?? false,
  });
  return { ...step, inputs, embeddings: 'embeddings' };
}

/**
 * Reorders the graph's nodes so that the branch of each input in `roots` comes before the
 * branches of the later ones (a stable sort by the earliest root a node reads from, then a
 * stable topological sort for the nodes that join branches).
 */
function orderBranches(b: GraphBuilder, roots: readonly string[]): void {
  const graph = b.graph;
  const rank = new Map<string, number>(roots.map((r, i) => [r, i]));
  const nodeRank = (inputs: readonly string[]) =>
    Math.min(...inputs.map((i) => rank.get(i) ?? Number.POSITIVE_INFINITY));
  const ranked = graph.nodes.map((node, index) => {
    const r = nodeRank(node.inputs);
    for (const o of node.outputs) rank.set(o, r);
    return { node, index, r: Number.isFinite(r) ? r : -1 };
  });
  ranked.sort((x, y) => x.r - y.r || x.index - y.index);
  graph.nodes = ranked.map((x) => x.node);
  topologicalSort(graph);
}
