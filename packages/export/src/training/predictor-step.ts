import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertContainer } from '../convert-graph.js';
import { emitSymmetricNegativeCosine } from './negative-cosine.js';
import type { OptimizerSpec } from './optimizer.js';
import { finishStepGraph, pairMomentumTargets, startStepGraph } from './step-graph.js';
import { assertStepBatch, declareTwoViews, type TwoViewStepGraph } from './step-inputs.js';

/** @experimental Options of {@link buildPredictorStep}. */
export interface PredictorStepOptions {
  /** Images per view. */
  batchSize: number;
  /**
   * BYOL's target: momentum copies of the encoder and the projector (`MomentumEncoder.targets`),
   * run in training mode and moved by EMA after the update (the graph's `momentum` input). Without
   * it, SimSiam: the other view's own projection, behind a stop-gradient.
   */
  target?: { encoder: LayersModel; projector: LayersModel };
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
 * @experimental Compiles one SimSiam or BYOL training step into ONE standard ONNX graph: each
 * view through `encoder` → `projector` → `predictor` in training mode on its own (the moving
 * statistics updated view 1 first, as the tfjs recipes call them), the symmetrised negative
 * cosine ½ D(p1, t2) + ½ D(p2, t1) with no gradient into the targets t, the gradient and the
 * optimizer update; with `target`, t is the momentum copy's projection (BatchNorm over the batch,
 * its statistics left to the EMA) and every target weight and statistic then follows
 * t ← m·t + (1 − m)·θ from the updated online values, as `MomentumEncoder.update(m)`.
 */
export async function buildPredictorStep(
  encoder: LayersModel,
  projector: LayersModel,
  predictor: LayersModel,
  options: PredictorStepOptions,
): Promise<TwoViewStepGraph> {
  const where = 'buildPredictorStep';
  const batch = options.batchSize;
  assertStepBatch(batch, where);
  const { target } = options;
  const { b, ctx, opts } = startStepGraph(
    target ? 'byol_step' : 'simsiam_step',
    batch,
    options.opset,
  );
  const { inputs, data, nhwc } = declareTwoViews(b, encoder, batch, options.viewLayout, where);
  const views = [inputs.view1, inputs.view2] as const;
  const project = async (enc: LayersModel, proj: LayersModel, view: string) => {
    const [features] = await convertContainer(ctx, enc, [nhwc(view)]);
    return (await convertContainer(ctx, proj, [features!]))[0]!;
  };
  const targets: string[] = [];
  if (target)
    for (const v of views) targets.push(await project(target.encoder, target.projector, v));
  const z: string[] = [];
  for (const v of views) z.push(await project(encoder, projector, v));
  const p: string[] = [];
  for (const zi of z) p.push((await convertContainer(ctx, predictor, [zi]))[0]!);
  const t = target ? targets : z;
  const loss = emitSymmetricNegativeCosine(b, [p[0]!, p[1]!], [t[0]!, t[1]!]);
  const step = finishStepGraph({
    b,
    ctx,
    opts,
    where,
    docString: `ebm.js ${target ? 'BYOL' : 'SimSiam'} training step (experimental): predictions, negative cosine, backward${target ? ', EMA' : ''}.`,
    loss,
    data,
    optimizer: options.optimizer ?? { kind: 'adam' },
    outputGradients: options.outputGradients ?? false,
    ...(target
      ? {
          momentumTargets: new Map([
            ...pairMomentumTargets(target.encoder, encoder, where),
            ...pairMomentumTargets(target.projector, projector, where),
          ]),
        }
      : {}),
  });
  return { ...step, inputs, viewDims: data[0]!.dims };
}
