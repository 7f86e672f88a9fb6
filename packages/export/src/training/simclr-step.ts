import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertContainer } from '../convert-graph.js';
import { attr } from '../ir.js';
import { emitNtXent } from './nt-xent.js';
import type { OptimizerSpec } from './optimizer.js';
import { finishStepGraph, startStepGraph } from './step-graph.js';
import { assertStepBatch, declareTwoViews, type TwoViewStepGraph } from './step-inputs.js';

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
export type SimclrStepGraph = TwoViewStepGraph;

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
  const where = 'buildSimclrStep';
  const batch = options.batchSize;
  assertStepBatch(batch, where);
  const temperature = options.temperature ?? 0.5;
  const optimizer = options.optimizer ?? { kind: 'adam' };
  const { b, ctx, opts } = startStepGraph('simclr_step', 2 * batch, options.opset);
  const { inputs, data, nhwc } = declareTwoViews(b, encoder, batch, options.viewLayout, where);
  const both = b.op('Concat', [inputs.view1, inputs.view2], 'views', { axis: attr.int(0) });
  const [features] = await convertContainer(ctx, encoder, [nhwc(both)]);
  const [z] = await convertContainer(ctx, head, [features!]);
  const loss = emitNtXent(b, z!, batch, temperature);
  const step = finishStepGraph({
    b,
    ctx,
    opts,
    where,
    docString: 'ebm.js SimCLR training step (experimental): forward, NT-Xent, backward, optimizer.',
    loss,
    data,
    optimizer,
    outputGradients: options.outputGradients ?? false,
  });
  return { ...step, inputs, viewDims: data[0]!.dims };
}
