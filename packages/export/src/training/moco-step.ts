import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertContainer } from '../convert-graph.js';
import { exportError } from '../errors.js';
import { attr } from '../ir.js';
import { emitInfoNce } from './info-nce.js';
import { emitL2Normalize } from './l2-normalize.js';
import type { OptimizerSpec } from './optimizer.js';
import {
  finishStepGraph,
  pairMomentumTargets,
  type StepGraph,
  startStepGraph,
} from './step-graph.js';
import { assertStepBatch, declareImageInputs, outputWidth } from './step-inputs.js';

/** @experimental Options of {@link buildMocoStep}. */
export interface MocoStepOptions {
  /** Queries (and keys) per step. */
  batchSize: number;
  /** Negatives in the queue fed each step ([queueSize, D]). */
  queueSize: number;
  /** InfoNCE temperature τ. Default 0.2 (MoCo v2). */
  temperature?: number;
  /**
   * Shuffle BN: the sizes of the key groups whose BatchNorm statistics are computed apart (they
   * sum to batchSize, each ≥ 2). Default one group.
   */
  keyGroups?: readonly number[];
  /** Default Adam with tfjs's defaults. */
  optimizer?: OptimizerSpec;
  /** Also output every weight's gradient as `<weight>/grad` (for tests). Default false. */
  outputGradients?: boolean;
  /** ONNX opset. Default 17. */
  opset?: number;
  /** Layout of the view inputs: 'NCHW' (default) or 'NHWC' (tfjs's). */
  viewLayout?: 'NCHW' | 'NHWC';
}

/** @experimental The compiled MoCo training step. */
export interface MocoStepGraph extends StepGraph {
  inputs: {
    /** The query views [B, …]. */
    queries: string;
    /** The key views, one input per Shuffle BN group ([size_g, …]), in group order. */
    keys: string[];
    /** The queue of negatives [K, D]. */
    queue: string;
    lr: string;
    step: string;
    momentum: string;
  };
  /** Output: the batch's L2-normalised keys [B, D], row i the key of query row i (to enqueue). */
  keys: string;
}

/**
 * @experimental Compiles one MoCo v2 training step into ONE standard ONNX graph: queries from
 * `encoder` → `head` in training mode; keys from their momentum copies `keyEncoder` → `keyHead`
 * in training mode (BatchNorm over each Shuffle BN group's rows alone, moving statistics left to
 * the EMA), L2-normalised and not differentiated; InfoNCE against the queue; the gradient and
 * the optimizer update of the query side; then the EMA of every key weight and statistic,
 * t ← m·t + (1 − m)·θ, from the updated query values (as `MomentumEncoder.update()` after the
 * step). Row i of the query views and of the concatenated key views are two views of one image;
 * the caller shuffles rows for Shuffle BN and enqueues the `keys` output.
 */
export async function buildMocoStep(
  encoder: LayersModel,
  head: LayersModel,
  keyEncoder: LayersModel,
  keyHead: LayersModel,
  options: MocoStepOptions,
): Promise<MocoStepGraph> {
  const where = 'buildMocoStep';
  const batch = options.batchSize;
  assertStepBatch(batch, where);
  const queueSize = options.queueSize;
  if (!Number.isInteger(queueSize) || queueSize < 1) {
    throw exportError(
      'INVALID_ARGUMENT',
      `${where}: queueSize must be a positive integer, received ${String(queueSize)}.`,
    );
  }
  const groups = [...(options.keyGroups ?? [batch])];
  if (
    groups.some((g) => !Number.isInteger(g) || g < 2) ||
    groups.reduce((a, g) => a + g, 0) !== batch
  ) {
    throw exportError(
      'INVALID_ARGUMENT',
      `${where}: keyGroups must be integers ≥ 2 summing to batchSize ${batch}, received [${groups.join(', ')}].`,
    );
  }
  const temperature = options.temperature ?? 0.2;
  const optimizer = options.optimizer ?? { kind: 'adam' };
  const { b, ctx, opts } = startStepGraph('moco_step', batch, options.opset);
  const graph = b.graph;

  const embeddingDim = outputWidth(head, where);
  const inputs: MocoStepGraph['inputs'] = {
    queries: 'queries',
    keys: groups.map((_, g) => `keys_${g}`),
    queue: 'queue',
    lr: 'lr',
    step: 'step',
    momentum: 'momentum',
  };
  const views = declareImageInputs(
    b,
    encoder,
    [
      { name: inputs.queries, rows: batch },
      ...inputs.keys.map((name, g) => ({ name, rows: groups[g]! })),
    ],
    options.viewLayout,
    where,
  );
  const data = [...views.data, { name: inputs.queue, dims: [queueSize, embeddingDim] }];
  b.reserve(inputs.queue);
  graph.inputs.push({ name: inputs.queue, dataType: 'float32', shape: [queueSize, embeddingDim] });
  const toNhwc = views.nhwc;

  const [features] = await convertContainer(ctx, encoder, [toNhwc(inputs.queries)]);
  const [query] = await convertContainer(ctx, head, [features!]);
  const groupKeys: string[] = [];
  for (const input of inputs.keys) {
    const [keyFeatures] = await convertContainer(ctx, keyEncoder, [toNhwc(input)]);
    groupKeys.push((await convertContainer(ctx, keyHead, [keyFeatures!]))[0]!);
  }
  const rawKeys =
    groupKeys.length === 1
      ? groupKeys[0]!
      : b.op('Concat', groupKeys, 'keys/concat', { axis: attr.int(0) });
  const keys = emitL2Normalize(b, rawKeys, 'keys');
  const loss = emitInfoNce(b, query!, keys, inputs.queue, queueSize, temperature);

  const step = finishStepGraph({
    b,
    ctx,
    opts,
    where,
    docString: 'ebm.js MoCo training step (experimental): queries, keys, InfoNCE, backward, EMA.',
    loss,
    data,
    outputs: [{ value: keys, name: 'keys', dims: [batch, embeddingDim] }],
    optimizer,
    outputGradients: options.outputGradients ?? false,
    momentumTargets: new Map([
      ...pairMomentumTargets(keyEncoder, encoder, where),
      ...pairMomentumTargets(keyHead, head, where),
    ]),
  });
  return { ...step, inputs, keys: 'keys' };
}
