import { selectBackend } from '@ebmjs/backends';
import { ntXent } from '@ebmjs/losses';
import { convEncoder, projectionHead, resnet18 } from '@ebmjs/models';
import { createOptimizer } from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import { choiceFlag, numberFlag, parseFlags } from '../args.js';
import { computesOn } from '../backend-line.js';
import type { Command } from './command.js';

const OPTIONS = {
  model: { type: 'string' },
  batch: { type: 'string' },
  steps: { type: 'string' },
} as const;

export const bench: Command = {
  name: 'bench',
  summary: 'measure SimCLR train-step throughput on this machine',
  help: [
    'Usage: ebm bench [--model conv|resnet18] [--batch 64] [--steps 5]',
    '',
    'Times SimCLR training steps (two views, NT-Xent, Adam) of the chosen encoder on the backend',
    'selectBackend() picks (EBM_BACKEND forces one) and prints the median images/s.',
    'The full comparison against PyTorch is `pnpm bench` in the repository.',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS);
    const model =
      choiceFlag(flags.string('model'), 'model', ['conv', 'resnet18'] as const) ?? 'conv';
    const batch = numberFlag(flags.string('batch'), 'batch', { integer: true, min: 2 }) ?? 64;
    const steps = numberFlag(flags.string('steps'), 'steps', { integer: true, min: 1 }) ?? 5;
    const backend = await selectBackend();
    const shape: [number, number, number] = model === 'conv' ? [28, 28, 1] : [32, 32, 3];
    const encoder =
      model === 'conv' ? convEncoder({ inputShape: shape }) : resnet18({ inputShape: shape });
    const head = projectionHead({ inputDim: encoder.embeddingDim });
    const loss = ntXent({ temperature: 0.5 });
    const optimizer = createOptimizer({ name: 'adam', learningRate: 1e-3 });
    const x = tf.randomUniform([2 * batch, ...shape], 0, 1, 'float32', 1);
    const step = () =>
      optimizer.minimize(() => {
        const z = head.model.apply(encoder.model.apply(x, { training: true }), {
          training: true,
        }) as tf.Tensor2D;
        const [a, b] = tf.split(z, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        return loss(a, b);
      });
    step(); // warm-up: kernels, optimizer slots
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step();
      await tf.ready();
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    io.out(
      `${model} SimCLR step, batch ${batch} (${2 * batch} views) on ${backend.candidate} (${computesOn(backend)}): ` +
        `median ${(median * 1000).toFixed(0)} ms/step, ${((2 * batch) / median).toFixed(0)} img/s over ${steps} steps`,
    );
    tf.dispose([x]);
    optimizer.dispose();
    encoder.model.dispose();
    head.model.dispose();
    return 0;
  },
};
