import { EbmError, guardGradientTape, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchCount, batchIndices } from '../datasets/dataset.js';
import {
  createOptimizer,
  type OptimizerConfig,
  setLearningRate,
} from '../optim/create-optimizer.js';
import { cosineSchedule } from '../optim/schedule.js';
import type { EpochRecord, StepEvent, TrainingCallbacks } from '../progress/events.js';
import { metricsLog } from '../progress/metrics-log.js';
import {
  copyWeights,
  loadCheckpoint,
  restoreOptimizer,
  type Saveable,
  saveCheckpoint,
} from './checkpoint.js';
import type { TrainConfig, TrainResult } from './config.js';

/** What a recipe hands the loop. */
export interface LoopSpec {
  config: TrainConfig;
  /** Name used in messages ("trainSimCLR"). */
  recipe: string;
  datasetSize: number;
  /** Images that pass through the encoder per dataset image in one step (views), for img/s. */
  viewsPerImage: number;
  /** Variables the optimizer updates, in a fixed order. */
  trainable: () => tf.Variable[];
  /** The loss of one batch (called inside optimizer.minimize, so it is differentiated). */
  loss: (indices: Int32Array, rng: Rng) => tf.Scalar;
  /** Work after each optimizer step (momentum update, enqueue keys, memory-bank update). */
  afterStep?: (indices: Int32Array) => void;
  /** Models whose weights a checkpoint stores, and stateful extras. */
  models: () => Record<string, tfl.LayersModel>;
  extras?: () => Record<string, Saveable>;
  /** Restores extras from their checkpoint directories. */
  restoreExtras?: (dirOf: (name: string) => string) => Promise<void>;
  /** Recipe settings stored with the checkpoint, checked on resume. */
  fingerprint: Record<string, unknown>;
}

/**
 * Steps timed before the loop sizes the run to its time budget. The timing starts after the
 * first step, which carries one-off costs (kernel compilation, operator setup, heap growth) that
 * made the run stop ~15% short of its budget when they were counted as the per-step rate.
 */
const MEASURE_STEPS = 3;

export async function runTrainingLoop(spec: LoopSpec): Promise<TrainResult> {
  const { config } = spec;
  const epochs = config.epochs ?? 1;
  const batchSize = config.batchSize ?? 256;
  const seed = config.seed ?? 0;
  validate.assertNumber(epochs, `${spec.recipe}: epochs`, { min: 1, integer: true });
  validate.assertNumber(batchSize, `${spec.recipe}: batchSize`, { min: 2, integer: true });
  if (config.maxSteps !== undefined)
    validate.assertNumber(config.maxSteps, `${spec.recipe}: maxSteps`, { min: 1, integer: true });
  if (config.timeBudgetSeconds !== undefined)
    validate.assertNumber(config.timeBudgetSeconds, `${spec.recipe}: timeBudgetSeconds`, {
      min: 0,
      exclusiveMin: true,
    });
  if (batchSize > spec.datasetSize) {
    throw new EbmError(
      'BATCH_TOO_SMALL',
      `${spec.recipe}: batchSize ${batchSize} is larger than the dataset (${spec.datasetSize} images).`,
    );
  }
  if (config.resume && !config.runDir)
    throw new EbmError('INVALID_ARGUMENT', `${spec.recipe}: resume needs runDir.`);

  // tf.Optimizer's Symbol.hasInstance reads `.minimize`, so guard against undefined first.
  const given =
    config.optimizer != null && config.optimizer instanceof tf.Optimizer
      ? config.optimizer
      : undefined;
  const optimizer =
    given ??
    createOptimizer(
      (config.optimizer as OptimizerConfig | undefined) ?? { name: 'adam', learningRate: 1e-3 },
    );
  const baseLr = (optimizer as unknown as { learningRate: number }).learningRate;
  const stepsPerEpoch = batchCount(spec.datasetSize, batchSize, true);
  let totalSteps = Math.min(epochs * stepsPerEpoch, config.maxSteps ?? Number.POSITIVE_INFINITY);
  const warmupSteps = Math.round((config.warmupEpochs ?? 0) * stepsPerEpoch);
  const makeSchedule = (total: number) =>
    config.schedule === 'constant'
      ? () => baseLr
      : cosineSchedule({
          baseLr,
          totalSteps: Math.max(total, warmupSteps + 1),
          warmupSteps,
          minLr: Math.min(config.minLr ?? 0, baseLr),
        });
  let schedule = makeSchedule(totalSteps);

  const callbacks: TrainingCallbacks[] = [config.callbacks ?? []].flat() as TrainingCallbacks[];
  let rng = new Rng(seed);
  let startEpoch = 0;
  let globalStep = 0;
  let history: EpochRecord[] = [];
  const checkpointDir = config.runDir ? `${config.runDir}/checkpoint` : undefined;

  if (config.resume && checkpointDir) {
    const loaded = await loadCheckpoint(checkpointDir).catch((error: unknown) => {
      if (error instanceof EbmError && error.code === 'IO') return undefined; // nothing to resume
      throw error;
    });
    if (loaded) {
      try {
        const saved = JSON.stringify(loaded.state['fingerprint']);
        if (saved !== JSON.stringify(spec.fingerprint)) {
          throw new EbmError(
            'INVALID_ARGUMENT',
            `${spec.recipe}: the checkpoint in ${checkpointDir} was written with other settings (${saved}); use a new runDir or the same settings.`,
          );
        }
        const models = spec.models();
        for (const [name, model] of Object.entries(models)) {
          const from = loaded.models[name];
          if (!from)
            throw new EbmError(
              'CORRUPT_FILE',
              `${checkpointDir}: the checkpoint has no model ${name}.`,
            );
          copyWeights(from, model, name);
        }
        await restoreOptimizer(optimizer, spec.trainable(), loaded.optimizerWeights);
        await spec.restoreExtras?.(loaded.extraDir);
        startEpoch = Number(loaded.state['epoch']);
        globalStep = Number(loaded.state['globalStep']);
        rng = new Rng(Number(loaded.state['rngState']));
        history = (loaded.state['history'] as EpochRecord[]) ?? [];
      } finally {
        for (const m of Object.values(loaded.models)) m.dispose();
      }
    }
  }
  if (config.runDir) callbacks.push(metricsLog(`${config.runDir}/metrics.jsonl`));

  const started = performance.now();
  let stepsThisCall = 0;
  let firstStepSeconds = 0;
  let stopReason: TrainResult['stopReason'] = 'completed';
  try {
    for (let epoch = startEpoch; epoch < epochs && globalStep < totalSteps; epoch++) {
      const epochStart = performance.now();
      let lossSum = 0;
      let lossCount = 0;
      let lr = baseLr;
      for (const indices of batchIndices(spec.datasetSize, {
        batchSize,
        seed: seed * 1000 + epoch,
        dropLast: true,
      })) {
        if (globalStep >= totalSteps) break;
        lr = schedule(globalStep);
        setLearningRate(optimizer, lr);
        const trainable = spec.trainable();
        const lossTensor = guardGradientTape(() =>
          optimizer.minimize(() => spec.loss(indices, rng), true, trainable),
        );
        const loss = lossTensor!.dataSync()[0]!;
        lossTensor!.dispose();
        if (!Number.isFinite(loss)) {
          throw new EbmError(
            'NON_FINITE',
            `${spec.recipe}: the loss became ${loss} at step ${globalStep} (learning rate ${lr}); lower the learning rate.`,
          );
        }
        spec.afterStep?.(indices);
        lossSum += loss;
        lossCount++;
        globalStep++;
        stepsThisCall++;
        const elapsed = (performance.now() - started) / 1000;
        if (stepsThisCall === 1) firstStepSeconds = elapsed;
        if (config.timeBudgetSeconds !== undefined && stepsThisCall === MEASURE_STEPS + 1) {
          // Fit the rest of the run into the budget, keeping the cosine schedule's shape.
          const secondsPerStep = (elapsed - firstStepSeconds) / MEASURE_STEPS;
          const affordable =
            globalStep + Math.floor((config.timeBudgetSeconds - elapsed) / secondsPerStep);
          if (affordable < totalSteps) {
            totalSteps = Math.max(globalStep, affordable);
            schedule = makeSchedule(totalSteps);
            stopReason = 'timeBudget';
          }
        }
        if (
          config.timeBudgetSeconds !== undefined &&
          elapsed >= config.timeBudgetSeconds &&
          globalStep < totalSteps
        ) {
          // Slower than measured (or the first steps alone overran): stop at the budget.
          totalSteps = globalStep;
          stopReason = 'timeBudget';
        }
        const imagesPerSecond = (stepsThisCall * batchSize * spec.viewsPerImage) / elapsed;
        const event: StepEvent = {
          epoch,
          epochs,
          step: (globalStep - 1) % stepsPerEpoch,
          stepsPerEpoch,
          globalStep,
          totalSteps,
          loss,
          learningRate: lr,
          imagesPerSecond,
          etaSeconds: ((totalSteps - globalStep) * elapsed) / stepsThisCall,
        };
        for (const c of callbacks) await c.onStepEnd?.(event);
      }
      const seconds = (performance.now() - epochStart) / 1000;
      const record: EpochRecord = {
        epoch,
        loss: lossSum / Math.max(1, lossCount),
        learningRate: lr,
        imagesPerSecond: (lossCount * batchSize * spec.viewsPerImage) / seconds,
        seconds,
      };
      if (config.evaluate) record.metrics = await config.evaluate(epoch);
      history.push(record);
      const finished = epoch + 1 === epochs || globalStep >= totalSteps;
      if (checkpointDir && ((epoch + 1) % (config.checkpointEvery ?? 1) === 0 || finished)) {
        await saveCheckpoint(checkpointDir, {
          models: spec.models(),
          optimizer,
          trainable: spec.trainable(),
          extras: spec.extras?.(),
          state: {
            epoch: epoch + 1,
            globalStep,
            rngState: rng.stateValue,
            history,
            fingerprint: spec.fingerprint,
            recipe: spec.recipe,
          },
        });
      }
      for (const c of callbacks) await c.onEpochEnd?.(record);
    }
  } finally {
    if (!given) optimizer.dispose();
  }
  if (
    stopReason === 'completed' &&
    config.maxSteps !== undefined &&
    globalStep >= config.maxSteps &&
    globalStep < epochs * stepsPerEpoch
  )
    stopReason = 'maxSteps';
  return {
    history,
    steps: stepsThisCall,
    stopReason,
    seconds: (performance.now() - started) / 1000,
  };
}
