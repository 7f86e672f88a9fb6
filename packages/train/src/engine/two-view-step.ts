import type { Rng } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import type { Encoder, Head } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import type { ImageDataset } from '../datasets/dataset.js';
import { twoViews } from '../recipes/two-views.js';
import type { CompileContext, CompiledStep } from './compiled-step.js';
import { graphOptimizer } from './graph-optimizer.js';
import { openStepEngine } from './step-engine.js';

/**
 * SimCLR's step compiled to one ONNX graph: the same two augmented views the tfjs step draws
 * (same rng calls, so both engines see the same batches), the encoder and head in training mode
 * over the 2B views, NT-Xent, gradients and the optimizer update inside the graph.
 */
export async function compileSimclrStep(
  parts: {
    dataset: ImageDataset;
    encoder: Encoder;
    head: Head;
    pipeline: Augmentation;
    temperature: number;
  },
  ctx: CompileContext,
): Promise<CompiledStep> {
  const { spec, slots } = graphOptimizer(ctx.optimizerConfig, ctx.recipe);
  const graph = await experimental.buildSimclrStep(parts.encoder.model, parts.head.model, {
    batchSize: ctx.batchSize,
    temperature: parts.temperature,
    optimizer: spec,
    viewLayout: 'NHWC',
  });
  const { engine, sync, release } = await openStepEngine(graph, ctx, slots);
  return {
    async run(indices: Int32Array, rng: Rng, lr: number): Promise<number> {
      const views = twoViews(parts.dataset, indices, parts.pipeline, rng);
      try {
        const [view1, view2] = await Promise.all(views.map((v) => v.data()));
        return (await engine.step(view1 as Float32Array, view2 as Float32Array, lr)).loss;
      } finally {
        tf.dispose(views);
      }
    },
    sync,
    release,
  };
}
