import { EbmError, guardGradientTape, Rng, validate } from '@ebmjs/core';
import { cosineSchedule, setLearningRate } from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import type { LabMethod, MethodContext, TrainableEnergy } from './methods/types.js';

export interface ToyTrainOptions {
  steps: number;
  /** Default 256. */
  batchSize?: number;
  /** Adam's base rate, decayed with a cosine to 0. Default 5e-3. */
  learningRate?: number;
  hiddenUnits?: readonly number[];
  seed?: number;
  box: MethodContext['box'];
  /** Called every `every` steps (and at the last) with the loss of that step. */
  onStep?: (step: number, loss: number) => void;
  every?: number;
}

export interface ToyTrainResult {
  model: TrainableEnergy;
  /** Loss at each reported step. */
  losses: { step: number; loss: number }[];
  seconds: number;
}

/**
 * Trains one lab method on 2-D points with the budget every method shares: the same net, the
 * same number of Adam steps on batches drawn with the same seed, the same cosine decay.
 * The caller owns (and disposes) the returned model.
 */
export function trainToy(
  method: LabMethod,
  train: Float32Array,
  options: ToyTrainOptions,
): ToyTrainResult {
  const { steps, batchSize = 256, learningRate = 5e-3, seed = 0, every = 50 } = options;
  validate.assertNumber(steps, 'trainToy: steps', { min: 1, integer: true });
  validate.assertNumber(batchSize, 'trainToy: batchSize', { min: 2, integer: true });
  const n = train.length / 2;
  if (!(Number.isInteger(n) && n >= batchSize)) {
    throw new EbmError(
      'BATCH_TOO_SMALL',
      `trainToy: needs at least batchSize (${batchSize}) points of 2 coordinates, received ${train.length} numbers.`,
    );
  }
  const model = method.create({
    train,
    box: options.box,
    hiddenUnits: options.hiddenUnits ?? [64, 64],
    seed,
    steps,
  });
  const optimizer = tf.train.adam(learningRate);
  const schedule = cosineSchedule({ baseLr: learningRate, totalSteps: steps, warmupSteps: 0 });
  const rng = new Rng(seed * 7919 + 1);
  const batch = new Float32Array(2 * batchSize);
  const losses: { step: number; loss: number }[] = [];
  const started = performance.now();
  try {
    for (let step = 0; step < steps; step++) {
      for (let r = 0; r < batchSize; r++) {
        const i = rng.int(n);
        batch[2 * r] = train[2 * i]!;
        batch[2 * r + 1] = train[2 * i + 1]!;
      }
      setLearningRate(optimizer, schedule(step));
      const x = tf.tensor2d(batch, [batchSize, 2]);
      const report = step % every === 0 || step === steps - 1;
      let value: number | undefined;
      try {
        const loss = guardGradientTape(() =>
          optimizer.minimize(() => model.loss(x, rng), report, model.variables()),
        );
        if (loss) {
          value = loss.dataSync()[0]!;
          loss.dispose();
        }
      } finally {
        x.dispose();
      }
      if (value !== undefined) {
        if (!Number.isFinite(value)) {
          throw new EbmError(
            'NON_FINITE',
            `trainToy (${method.name}): the loss became ${value} at step ${step}.`,
          );
        }
        losses.push({ step, loss: value });
        options.onStep?.(step, value);
      }
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  return { model, losses, seconds: (performance.now() - started) / 1000 };
}
