import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertContainer } from '../convert-graph.js';
import { exportError } from '../errors.js';
import { attr } from '../ir.js';
import { NCHW_TO_NHWC } from '../layers/layout.js';
import { emitNtXent } from './nt-xent.js';
import type { OptimizerSpec } from './optimizer.js';
import { finishStepGraph, imageInputShape, type StepGraph, startStepGraph } from './step-graph.js';

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

/** @experimental The compiled SimCLR training step: ONNX bytes plus how to feed them. */
export interface SimclrStepGraph extends StepGraph {
  /** The two views fed each step ([B, C, H, W], or [B, H, W, C] under 'NHWC'), `lr` and `step`. */
  inputs: { view1: string; view2: string; lr: string; step: string };
  viewDims: number[];
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
  const { b, ctx, opts } = startStepGraph('simclr_step', 2 * batch, options.opset);
  const graph = b.graph;

  const [h, w, c] = imageInputShape(encoder, 'buildSimclrStep');
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
  const step = finishStepGraph({
    b,
    ctx,
    opts,
    where: 'buildSimclrStep',
    docString: 'ebm.js SimCLR training step (experimental): forward, NT-Xent, backward, optimizer.',
    loss,
    data: [
      { name: inputs.view1, dims: viewDims },
      { name: inputs.view2, dims: viewDims },
    ],
    optimizer,
    outputGradients: options.outputGradients ?? false,
  });
  return { ...step, inputs, viewDims };
}
