import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertContainer } from '../convert-graph.js';
import { exportError } from '../errors.js';
import { type BarlowTwinsSpec, emitBarlowTwins } from './barlow-twins.js';
import type { OptimizerSpec } from './optimizer.js';
import { finishStepGraph, startStepGraph } from './step-graph.js';
import {
  assertStepBatch,
  declareTwoViews,
  outputWidth,
  type TwoViewStepGraph,
} from './step-inputs.js';
import { emitVicReg, type VicRegSpec } from './vicreg.js';

/**
 * @experimental The loss of a joint-embedding step, with @ebmjs/losses' defaults for what is
 * left out: `vicReg` (25, 25, 1, γ 1, ε 1e-4) or `barlowTwins` (λ 5e-3, ε 1e-5).
 */
export type JointEmbeddingLoss =
  | ({ kind: 'vicreg' } & Partial<VicRegSpec>)
  | ({ kind: 'barlow-twins' } & Partial<BarlowTwinsSpec>);

/** @experimental Options of {@link buildJointEmbeddingStep}. */
export interface JointEmbeddingStepOptions {
  /** Images per view. */
  batchSize: number;
  loss: JointEmbeddingLoss;
  /** Default Adam with tfjs's defaults. */
  optimizer?: OptimizerSpec;
  /** Also output every weight's gradient as `<weight>/grad` (for tests). Default false. */
  outputGradients?: boolean;
  /** ONNX opset. Default 17. */
  opset?: number;
  /** Layout of the two view inputs: 'NCHW' (default) or 'NHWC' (tfjs's). */
  viewLayout?: 'NCHW' | 'NHWC';
}

/**
 * @experimental Compiles one VICReg or Barlow Twins training step of tfjs `encoder` →
 * `projector` into ONE standard ONNX graph: each view through the networks on its own (BatchNorm
 * normalising each view's batch and updating the moving statistics view 1 first, as the tfjs
 * recipes call them), the loss of the two projections, the gradient and the optimizer update.
 */
export async function buildJointEmbeddingStep(
  encoder: LayersModel,
  projector: LayersModel,
  options: JointEmbeddingStepOptions,
): Promise<TwoViewStepGraph> {
  const where = 'buildJointEmbeddingStep';
  const batch = options.batchSize;
  assertStepBatch(batch, where);
  const { b, ctx, opts } = startStepGraph('joint_embedding_step', batch, options.opset);
  const { inputs, data, nhwc } = declareTwoViews(b, encoder, batch, options.viewLayout, where);
  const z: string[] = [];
  for (const view of [inputs.view1, inputs.view2]) {
    const [features] = await convertContainer(ctx, encoder, [nhwc(view)]);
    z.push((await convertContainer(ctx, projector, [features!]))[0]!);
  }
  const shape = { batch, dim: outputWidth(projector, where) };
  const spec = options.loss;
  let loss: string;
  if (spec.kind === 'vicreg') {
    loss = emitVicReg(b, z[0]!, z[1]!, shape, {
      invariance: spec.invariance ?? 25,
      variance: spec.variance ?? 25,
      covariance: spec.covariance ?? 1,
      gamma: spec.gamma ?? 1,
      epsilon: spec.epsilon ?? 1e-4,
    });
  } else if (spec.kind === 'barlow-twins') {
    loss = emitBarlowTwins(b, z[0]!, z[1]!, shape, {
      lambda: spec.lambda ?? 5e-3,
      epsilon: spec.epsilon ?? 1e-5,
    });
  } else {
    throw exportError(
      'INVALID_ARGUMENT',
      `${where}: loss.kind must be 'vicreg' or 'barlow-twins', received ${JSON.stringify((spec as { kind?: unknown }).kind)}.`,
    );
  }
  const step = finishStepGraph({
    b,
    ctx,
    opts,
    where,
    docString: `ebm.js ${spec.kind} training step (experimental): two views, loss, backward, optimizer.`,
    loss,
    data,
    optimizer: options.optimizer ?? { kind: 'adam' },
    outputGradients: options.outputGradients ?? false,
  });
  return { ...step, inputs, viewDims: data[0]!.dims };
}
