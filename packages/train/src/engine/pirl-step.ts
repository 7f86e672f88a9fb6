import type { Rng } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import type { MemoryBank, PirlHeads } from '@ebmjs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../augment/augmentation.js';
import { jigsaw } from '../augment/jigsaw.js';
import { type ImageDataset, imageBatch } from '../datasets/dataset.js';
import type { CompileContext, CompiledStep } from './compiled-step.js';
import { graphOptimizer } from './graph-optimizer.js';
import { openStepEngine } from './step-engine.js';

/**
 * PIRL's step compiled to one ONNX graph: the jigsaw patches and the image view drawn from `rng`
 * as the tfjs step draws them, the memory entries and negatives taken from the bank as it does
 * (same calls, same bank stream), and the bank moved towards the graph's normalised f — what the
 * tfjs step's `afterStep` does.
 */
export async function compilePirlStep(
  parts: {
    dataset: ImageDataset;
    heads: PirlHeads;
    /** The live bank (a resumed run replaces the object). */
    bank: () => MemoryBank;
    pipeline: Augmentation;
    grid: number;
    patch: number;
    negatives: number;
    temperature: number;
    lambda: number;
  },
  ctx: CompileContext,
): Promise<CompiledStep> {
  const { spec, slots } = graphOptimizer(ctx.optimizerConfig, ctx.recipe);
  const batch = ctx.batchSize;
  const graph = await experimental.buildPirlStep(parts.heads.joint, {
    batchSize: batch,
    negatives: parts.negatives,
    temperature: parts.temperature,
    lambda: parts.lambda,
    optimizer: spec,
    viewLayout: 'NHWC',
  });
  const { engine, sync, release } = await openStepEngine(graph, ctx, slots);
  const cells = parts.grid * parts.grid;
  return {
    async run(indices: Int32Array, rng: Rng, lr: number): Promise<number> {
      const bank = parts.bank();
      const tensors = tf.tidy(() => {
        const x = imageBatch(parts.dataset, indices);
        // The order of the tfjs step: the jigsaw's view and cut first, then the image view.
        const cut = jigsaw(parts.pipeline(x, rng), rng, {
          grid: parts.grid,
          patchSize: parts.patch,
        });
        const image = parts.pipeline(x, rng);
        const [, , , c] = x.shape;
        const patches = tf.unstack(
          tf.reshape(cut.patches, [indices.length, cells, parts.patch, parts.patch, c]),
          1,
        );
        return [
          image,
          ...patches,
          bank.get(indices),
          bank.negatives(indices, parts.negatives).negatives,
        ];
      });
      try {
        const values = (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
        const names = [
          graph.inputs.image,
          ...graph.inputs.patches,
          graph.inputs.memory,
          graph.inputs.negatives,
        ];
        const data = Object.fromEntries(names.map((name, i) => [name, values[i]!]));
        const out = await engine.run(data, { lr });
        const f = out.outputs.get(graph.embeddings)!;
        tf.tidy(() => bank.update(indices, tf.tensor2d(f, [batch, f.length / batch])));
        return out.loss;
      } finally {
        tf.dispose(tensors);
      }
    },
    sync,
    release,
  };
}
