import { EbmError, type Rng } from '@ebmjs/core';
import type { experimental } from '@ebmjs/export';
import type { MomentumEncoder } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import type { ImageDataset } from '../datasets/dataset.js';
import { twoViews } from '../recipes/two-views.js';
import type { CompileContext, CompiledStep, StepProgress } from './compiled-step.js';
import { graphOptimizer } from './graph-optimizer.js';
import { openStepEngine } from './step-engine.js';

/**
 * A two-view recipe's step (SimCLR, VICReg, Barlow Twins, SimSiam, BYOL) compiled to one ONNX
 * graph: the same two augmented views the tfjs step draws (same rng calls, so both engines see
 * the same batches), fed in tfjs's NHWC layout; `build` compiles the graph for the optimizer.
 * With `target`, the graph moves the momentum target by EMA at `momentum(progress)` (what the
 * tfjs step's `afterStep` passes to `target.update`), and the target counts the update.
 */
export async function compileTwoViewStep(
  parts: {
    dataset: ImageDataset;
    pipeline: Augmentation;
    build: (optimizer: experimental.OptimizerSpec) => Promise<experimental.TwoViewStepGraph>;
    target?: { encoder: MomentumEncoder; momentum: (progress: StepProgress) => number };
  },
  ctx: CompileContext,
): Promise<CompiledStep> {
  const { spec, slots } = graphOptimizer(ctx.optimizerConfig, ctx.recipe);
  const graph = await parts.build(spec);
  const { engine, sync, release } = await openStepEngine(graph, ctx, slots);
  const { target } = parts;
  return {
    async run(indices: Int32Array, rng: Rng, lr: number, progress: StepProgress) {
      const views = twoViews(parts.dataset, indices, parts.pipeline, rng);
      try {
        const [view1, view2] = (await Promise.all(views.map((v) => v.data()))) as Float32Array[];
        const data = { [graph.inputs.view1]: view1!, [graph.inputs.view2]: view2! };
        if (target === undefined) return (await engine.run(data, { lr })).loss;
        const out = await engine.run(data, { lr, momentum: target.momentum(progress) });
        target.encoder.recordUpdate();
        return out.loss;
      } finally {
        tf.dispose(views);
      }
    },
    sync,
    release,
  };
}

/** The compiled steps take two views; multi-crop stays on the tfjs engine. */
export function assertTwoViews(multiCrop: unknown, recipe: string): void {
  if (multiCrop)
    throw new EbmError(
      'UNSUPPORTED',
      `${recipe}: engine 'onnxruntime' compiles the two-view step; multiCrop needs engine 'tfjs'.`,
    );
}
