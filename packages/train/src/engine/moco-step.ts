import type { Rng } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import {
  type Encoder,
  type Head,
  type MomentumEncoder,
  type NegativeQueue,
  shufflePlan,
} from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Augmentation } from '../augment/augmentation.js';
import { type ImageDataset, imageBatch } from '../datasets/dataset.js';
import type { CompileContext, CompiledStep } from './compiled-step.js';
import { graphOptimizer } from './graph-optimizer.js';
import { openStepEngine } from './step-engine.js';

/**
 * MoCo's step compiled to one ONNX graph: the views and the Shuffle BN permutation drawn from
 * `rng` exactly as the tfjs step draws them, the rows fed shuffled (queries too, so row i of
 * both is one image; the loss does not depend on the row order), the queue fed as it stands,
 * and the graph's keys put back in image order and enqueued — what the tfjs step's `afterStep`
 * does, with the key encoder's EMA computed in the graph.
 */
export async function compileMocoStep(
  parts: {
    dataset: ImageDataset;
    encoder: Encoder;
    head: Head;
    keyEncoder: MomentumEncoder;
    /** The live queue (a resumed run replaces the object). */
    queue: () => NegativeQueue;
    pipeline: Augmentation;
    temperature: number;
    shuffleBnGroups: number;
  },
  ctx: CompileContext,
): Promise<CompiledStep> {
  const { keyEncoder, shuffleBnGroups: groups } = parts;
  const batch = ctx.batchSize;
  const { spec, slots } = graphOptimizer(ctx.optimizerConfig, ctx.recipe);
  const [keyModel, keyHead] = keyEncoder.targets as [LayersModel, LayersModel];
  // shufflePlan's group sizes: ⌈B/G⌉ for the first B mod G groups, ⌊B/G⌋ for the rest.
  const sizes = Array.from(
    { length: groups },
    (_, g) => Math.floor(batch / groups) + (g < batch % groups ? 1 : 0),
  );
  const graph = await experimental.buildMocoStep(
    parts.encoder.model,
    parts.head.model,
    keyModel,
    keyHead,
    {
      batchSize: batch,
      queueSize: parts.queue().size,
      temperature: parts.temperature,
      keyGroups: sizes,
      optimizer: spec,
      viewLayout: 'NHWC',
    },
  );
  const { engine, sync, release } = await openStepEngine(graph, ctx, slots);
  const dim = parts.head.outputDim;
  return {
    async run(indices: Int32Array, rng: Rng, lr: number): Promise<number> {
      const [x1, x2] = tf.tidy(() => {
        const x = imageBatch(parts.dataset, indices);
        return [parts.pipeline(x, rng), parts.pipeline(x, rng)];
      });
      // The permutation applyTraining would draw next (none for one group).
      const plan = groups > 1 ? shufflePlan(batch, groups, rng) : undefined;
      const order = plan ? Array.from(plan.permutation) : undefined;
      const shuffled = order
        ? tf.tidy(() => [tf.gather(x1!, order), tf.gather(x2!, order)])
        : [x1!, x2!];
      try {
        const [queries, keys] = (await Promise.all(shuffled.map((t) => t.data()))) as [
          Float32Array,
          Float32Array,
        ];
        const data: Record<string, Float32Array> = {
          [graph.inputs.queries]: queries,
          [graph.inputs.queue]: (await parts.queue().keys().data()) as Float32Array,
        };
        const row = keys.length / batch;
        let start = 0;
        graph.inputs.keys.forEach((name, g) => {
          data[name] = keys.subarray(start * row, (start + sizes[g]!) * row);
          start += sizes[g]!;
        });
        const out = await engine.run(data, { lr, momentum: keyEncoder.momentumAt() });
        keyEncoder.recordUpdate();
        // Keys back in image order: image i sits at shuffled row inverse[i].
        const shuffledKeys = out.outputs.get(graph.keys)!;
        const ordered = new Float32Array(batch * dim);
        for (let i = 0; i < batch; i++) {
          const from = plan ? plan.inverse[i]! : i;
          ordered.set(shuffledKeys.subarray(from * dim, (from + 1) * dim), i * dim);
        }
        tf.tidy(() => parts.queue().enqueue(tf.tensor2d(ordered, [batch, dim])));
        return out.loss;
      } finally {
        tf.dispose([x1!, x2!, ...shuffled]);
      }
    },
    sync,
    release,
  };
}
