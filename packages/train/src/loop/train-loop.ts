import { EbmError, guardGradientTape, Rng, setFiniteChecks, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  appendMetrics,
  filesAvailable,
  loadCheckpoint,
  resumeMetrics,
  saveCheckpoint,
} from '#node-io';
import { batchCount } from '../datasets/dataset.js';
import type { CompileContext, CompiledStep } from '../engine/compiled-step.js';
import { selectEngine } from '../engine/select-engine.js';
import {
  createOptimizer,
  type OptimizerConfig,
  setLearningRate,
} from '../optim/create-optimizer.js';
import { cosineSchedule } from '../optim/schedule.js';
import type { EpochRecord, StepEvent, StepRecord, TrainingCallbacks } from '../progress/events.js';
import { copyWeights, restoreOptimizer, type Saveable } from './checkpoint.js';
import type { TrainConfig, TrainResult } from './config.js';
import {
  fingerprintDifferences,
  fingerprintMismatch,
  optimizerFingerprint,
} from './fingerprint.js';
import { checkSampler, epochBatches, mPerClassSampler } from './sampler.js';

/** What a recipe hands the loop. */
export interface LoopSpec {
  config: TrainConfig;
  /** Name used in messages ("trainSimCLR"). */
  recipe: string;
  datasetSize: number;
  /**
   * The dataset's class labels, from a recipe that trains on them: what `sampler:
   * { mPerClass }` draws its batches by. Self-supervised recipes leave it unset.
   */
  labels?: ArrayLike<number>;
  /** Images that pass through the encoder per dataset image in one step (views), for img/s. */
  viewsPerImage: number;
  /** Variables the optimizer updates, in a fixed order. */
  trainable: () => tf.Variable[];
  /** The loss of one batch (called inside optimizer.minimize, so it is differentiated). */
  loss: (indices: Int32Array, rng: Rng) => tf.Scalar;
  /**
   * Work after each optimizer step (momentum update, enqueue keys, memory-bank update). `plan`
   * is the step just taken (0-based, counted over resumes) and the plan in force, so a schedule
   * of its own (BYOL's momentum) follows the loop's plan, a fitted one included, and replays on
   * resume.
   */
  afterStep?: (indices: Int32Array, plan: { step: number; totalSteps: number }) => void;
  /**
   * The whole step (loss, gradients, optimizer, and what `afterStep` does) compiled for engine
   * 'onnxruntime'; throws an UNSUPPORTED EbmError naming what does not compile. Without it the
   * recipe runs on tfjs only.
   */
  compile?: (ctx: CompileContext) => Promise<CompiledStep>;
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

/**
 * Steps after which the fit is made once more, from the steps since the first fit (unless a
 * checkpoint has recorded the first one: a resume must see the plan the run had). The first steps
 * can be far slower than the rest: on the onnxruntime engine steps 2–4 took ~1.5× the later ones
 * (ORT's arena growing), and a fit from them alone stopped the demo at 55% of its budget.
 */
const REFIT_STEPS = 20;

/** Version of the loop state a checkpoint stores (v2: position within the epoch and the plan). */
const STATE_VERSION = 2;

/**
 * Runs a recipe's steps over its plan (`epochs` × steps per epoch, or the plan a time budget
 * fitted) and writes checkpoints that resume exactly: the position within the epoch, the data
 * order, the random stream, the schedule in force and the running epoch loss, so a resumed run
 * equals the uninterrupted run of the same plan whatever stopped it (maxSteps, the time budget,
 * an abort signal, a crash or kill -9 after the last checkpoint).
 */
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
  const checkpointEvery = config.checkpointEvery ?? 1;
  validate.assertNumber(checkpointEvery, `${spec.recipe}: checkpointEvery`, {
    min: 1,
    integer: true,
  });
  if (config.checkpointEverySteps !== undefined)
    validate.assertNumber(config.checkpointEverySteps, `${spec.recipe}: checkpointEverySteps`, {
      min: 1,
      integer: true,
    });
  validate.assertNumber(config.logEverySteps ?? 10, `${spec.recipe}: logEverySteps`, {
    min: 0,
    integer: true,
  });
  if (batchSize > spec.datasetSize) {
    throw new EbmError(
      'BATCH_TOO_SMALL',
      `${spec.recipe}: batchSize ${batchSize} is larger than the dataset (${spec.datasetSize} images).`,
    );
  }
  checkSampler(config.sampler, spec.recipe, spec.labels);
  if (config.sampler !== undefined && config.sampler !== 'random') {
    // Refuses impossible settings (batchSize % m, too few classes) before any step.
    mPerClassSampler({ labels: spec.labels!, m: config.sampler.mPerClass, batchSize, batches: 0 });
  }
  if (config.resume && !config.runDir)
    throw new EbmError('INVALID_ARGUMENT', `${spec.recipe}: resume needs runDir.`);
  // Browsers have no file system (#node-io's browser variant): refuse runDir before any step.
  if (config.runDir && !filesAvailable)
    throw new EbmError(
      'UNSUPPORTED',
      `${spec.recipe}: runDir needs Node's file system; outside Node leave it unset (the result keeps the history), received "${config.runDir}".`,
      { path: config.runDir },
    );
  if (config.extend && !config.resume)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${spec.recipe}: extend continues a checkpoint for more epochs; it needs resume: true.`,
    );

  // tf.Optimizer's Symbol.hasInstance reads `.minimize`, so guard against undefined first.
  const given =
    config.optimizer != null && config.optimizer instanceof tf.Optimizer
      ? config.optimizer
      : undefined;
  const optimizerConfig = given
    ? undefined
    : ((config.optimizer as OptimizerConfig | undefined) ?? { name: 'adam', learningRate: 1e-3 });
  const optimizer = given ?? createOptimizer(optimizerConfig!);
  try {
    return await train(
      spec,
      optimizer,
      { epochs, batchSize, seed, checkpointEvery },
      given,
      optimizerConfig,
    );
  } finally {
    if (!given) optimizer.dispose();
  }
}

async function train(
  spec: LoopSpec,
  optimizer: tf.Optimizer,
  settings: { epochs: number; batchSize: number; seed: number; checkpointEvery: number },
  given: tf.Optimizer | undefined,
  optimizerConfig: OptimizerConfig | undefined,
): Promise<TrainResult> {
  const { config } = spec;
  const { epochs, batchSize, seed, checkpointEvery } = settings;
  const baseLr = (optimizer as unknown as { learningRate: number }).learningRate;
  const stepsPerEpoch = batchCount(spec.datasetSize, batchSize, true);
  const plannedSteps = epochs * stepsPerEpoch;
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
  // Everything that changes the math of a step, checked on resume (the recipe adds its own).
  const fingerprint: Record<string, unknown> = {
    ...spec.fingerprint,
    epochs,
    batchSize,
    seed,
    datasetSize: spec.datasetSize,
    optimizer: optimizerFingerprint(config.optimizer, given),
    schedule: config.schedule ?? 'cosine',
    warmupEpochs: config.warmupEpochs ?? 0,
    minLr: config.minLr ?? 0,
    // Recorded only when set, so checkpoints written before the option still resume.
    ...(config.sampler !== undefined && config.sampler !== 'random'
      ? { sampler: { mPerClass: config.sampler.mPerClass } }
      : {}),
  };

  const callbacks: TrainingCallbacks[] = [config.callbacks ?? []].flat() as TrainingCallbacks[];
  let rng = new Rng(seed);
  // The plan in force: all epochs, or what a time budget fitted (then planFitted).
  let totalSteps = plannedSteps;
  let planFitted = false;
  let epoch = 0;
  let epochStep = 0;
  let globalStep = 0;
  let lossSum = 0;
  let lossCount = 0;
  let lr = baseLr;
  let epochSeconds = 0;
  let history: EpochRecord[] = [];
  const checkpointDir = config.runDir ? `${config.runDir}/checkpoint` : undefined;
  const metricsPath = config.runDir ? `${config.runDir}/metrics.jsonl` : undefined;

  if (config.resume && checkpointDir) {
    const loaded = await loadCheckpoint(checkpointDir).catch((error: unknown) => {
      if (error instanceof EbmError && error.code === 'IO') return undefined; // nothing to resume
      throw error;
    });
    if (loaded) {
      try {
        const st = loaded.state;
        const differences = fingerprintDifferences(
          st['fingerprint'],
          fingerprint,
          config.extend ? ['epochs'] : [],
        );
        if (differences.length > 0)
          throw fingerprintMismatch(spec.recipe, checkpointDir, differences);
        const savedEpoch = Number(st['epoch']);
        if (config.extend && savedEpoch > epochs)
          throw new EbmError(
            'INVALID_ARGUMENT',
            `${spec.recipe}: extend needs at least the ${savedEpoch} epochs the checkpoint in ${checkpointDir} has done, received epochs ${epochs}.`,
          );
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
        epoch = savedEpoch;
        globalStep = Number(st['globalStep']);
        rng = new Rng(Number(st['rngState']));
        history = (st['history'] as EpochRecord[]) ?? [];
        if (Number(st['stateVersion']) >= 2) {
          epochStep = Number(st['epochStep']);
          lossSum = Number(st['epochLossSum']);
          lossCount = Number(st['epochLossCount']);
          lr = Number(st['epochLearningRate']);
          epochSeconds = Number(st['epochSeconds']);
          // Extending re-plans the run over the new epochs; otherwise the saved plan holds.
          if (!config.extend) {
            totalSteps = Number(st['totalSteps']);
            planFitted = st['planFitted'] === true;
          }
        }
      } finally {
        for (const m of Object.values(loaded.models)) m.dispose();
      }
    }
  }
  // The log holds exactly the checkpoint's epochs: records written after it (a crash before
  // the next checkpoint, or a partial epoch) are dropped, records it has but the log lost
  // (a crash between checkpoint and log) are restored. Step records up to the checkpoint's step
  // stay (each is appended before any checkpoint that covers it); later ones go, and the resumed
  // run writes them again. A fresh run starts a fresh log.
  if (metricsPath)
    await resumeMetrics(metricsPath, history, { lastStep: globalStep, stepsPerEpoch });
  const logEvery = metricsPath ? (config.logEverySteps ?? 10) : 0;
  // tfjs's minimize() is computeGradients + applyGradients + dispose: calling them here is the
  // same arithmetic and exposes the gradients for their norm. An optimizer that overrides
  // minimize() keeps its own (and its step records have no gradNorm).
  const ownMinimize = optimizer.minimize !== tf.Optimizer.prototype.minimize;
  // The engine is chosen after the resume, so a compiled step starts from the restored state.
  const engine = await selectEngine({
    recipe: spec.recipe,
    engine: config.engine,
    options: config.onnxruntime,
    compile: spec.compile,
    optimizerConfig,
    optimizer,
    trainable: spec.trainable(),
    batchSize,
    startStep: globalStep,
  });
  try {
    return await runSteps();
  } finally {
    await engine.compiled?.release();
  }
  async function runSteps(): Promise<TrainResult> {
    const compiled = engine.compiled;
    // The tfjs models and optimizer hold the compiled step's state only after a sync: before
    // evaluations, callbacks that read the models, checkpoints, and the return.
    let syncedAt = globalStep;
    const sync = async () => {
      if (compiled === undefined || syncedAt === globalStep) return;
      await compiled.sync();
      syncedAt = globalStep;
    };
    let loggedAt = performance.now();
    let loggedSteps = 0;
    let schedule = makeSchedule(totalSteps);

    let savedAt = -1;
    const save = async () => {
      if (!checkpointDir || savedAt === globalStep) return;
      await sync();
      await saveCheckpoint(checkpointDir, {
        models: spec.models(),
        optimizer,
        trainable: spec.trainable(),
        extras: spec.extras?.(),
        state: {
          stateVersion: STATE_VERSION,
          epoch,
          epochStep,
          globalStep,
          totalSteps,
          planFitted,
          dataOrderSeed: seed * 1000 + epoch,
          rngState: rng.stateValue,
          epochLossSum: lossSum,
          epochLossCount: lossCount,
          epochLearningRate: lr,
          epochSeconds,
          history,
          fingerprint,
          recipe: spec.recipe,
        },
      });
      savedAt = globalStep;
    };

    const started = performance.now();
    let stepsThisCall = 0;
    let firstStepSeconds = 0;
    let firstFit: { elapsed: number; globalStep: number; plan: number } | undefined;
    let stopReason: TrainResult['stopReason'] = 'completed';
    const stopNow = (): TrainResult['stopReason'] | undefined => {
      if (config.signal?.aborted) return 'aborted';
      if (config.maxSteps !== undefined && globalStep >= config.maxSteps) return 'maxSteps';
      if (
        config.timeBudgetSeconds !== undefined &&
        stepsThisCall > 0 &&
        (performance.now() - started) / 1000 >= config.timeBudgetSeconds
      )
        // Slower than measured (or the first steps alone overran): stop at the budget.
        return 'timeBudget';
      return undefined;
    };
    const result: EpochRecord[] = [];
    let stopped: TrainResult['stopReason'] | undefined;
    for (const c of callbacks)
      await c.onStart?.({
        engine: engine.engine,
        ...(engine.note !== undefined ? { engineNote: engine.note } : {}),
      });
    while (epoch < epochs && globalStep < totalSteps) {
      stopped = stopNow();
      if (stopped) break;
      const epochStart = performance.now();
      let position = 0;
      for (const indices of epochBatches(config.sampler, {
        size: spec.datasetSize,
        labels: spec.labels,
        batchSize,
        seed: seed * 1000 + epoch,
      })) {
        if (position++ < epochStep) continue; // done before the checkpoint this run resumed
        if (globalStep >= totalSteps) break;
        stopped = stopNow();
        if (stopped) break;
        lr = schedule(globalStep);
        setLearningRate(optimizer, lr);
        const logged = logEvery > 0 && (globalStep + 1) % logEvery === 0;
        let gradNorm: number | undefined;
        let loss: number;
        if (compiled) loss = await compiled.run(indices, rng, lr, { step: globalStep, totalSteps });
        else {
          const measured = await tfjsStep(indices, logged);
          loss = measured.loss;
          gradNorm = measured.gradNorm;
        }
        if (!Number.isFinite(loss)) {
          throw new EbmError(
            'NON_FINITE',
            `${spec.recipe}: the loss became ${loss} at step ${globalStep} (learning rate ${lr}); lower the learning rate.`,
          );
        }
        // The recipe's own update (MoCo's queue, PIRL's memory bank) validates its tensors too.
        // (A compiled step did that work in its graph.)
        const afterChecks = tf.getBackend() === 'webgpu' ? setFiniteChecks(false) : undefined;
        try {
          if (!compiled) spec.afterStep?.(indices, { step: globalStep, totalSteps });
        } finally {
          if (afterChecks !== undefined) setFiniteChecks(afterChecks);
        }
        lossSum += loss;
        lossCount++;
        globalStep++;
        epochStep++;
        stepsThisCall++;
        const elapsed = (performance.now() - started) / 1000;
        if (stepsThisCall === 1) firstStepSeconds = elapsed;
        if (config.timeBudgetSeconds !== undefined) {
          const budget = config.timeBudgetSeconds;
          // Fit the rest of the run into the budget, keeping the cosine schedule's shape. The
          // fitted plan is the run's plan from now on: a checkpoint records it and a resume
          // completes it.
          const fit = (secondsPerStep: number, plan: number) => {
            const affordable = globalStep + Math.floor((budget - elapsed) / secondsPerStep);
            const fitted = Math.min(plan, Math.max(globalStep, affordable));
            planFitted = fitted < plan;
            if (fitted !== totalSteps) {
              totalSteps = fitted;
              schedule = makeSchedule(totalSteps);
            }
          };
          if (!planFitted && stepsThisCall === MEASURE_STEPS + 1) {
            firstFit = { elapsed, globalStep, plan: totalSteps };
            fit((elapsed - firstStepSeconds) / MEASURE_STEPS, totalSteps);
          } else if (
            firstFit !== undefined &&
            stepsThisCall === REFIT_STEPS + 1 &&
            savedAt < firstFit.globalStep
          ) {
            fit((elapsed - firstFit.elapsed) / (REFIT_STEPS - MEASURE_STEPS), firstFit.plan);
          }
        }
        loggedSteps++;
        if (logged && metricsPath) {
          // Before any checkpoint of this step, so a checkpoint never covers a step the log lacks.
          const now = performance.now();
          const stepRecord: StepRecord = {
            type: 'step',
            step: globalStep,
            epoch,
            loss,
            learningRate: lr,
            imagesPerSecond:
              (loggedSteps * batchSize * spec.viewsPerImage) /
              Math.max((now - loggedAt) / 1000, 1e-9),
            ...(gradNorm !== undefined ? { gradNorm } : {}),
          };
          await appendMetrics(metricsPath, stepRecord);
          loggedAt = now;
          loggedSteps = 0;
        }
        const every = config.checkpointEverySteps;
        let checkpointed = false;
        if (
          every !== undefined &&
          globalStep % every === 0 &&
          epochStep < stepsPerEpoch &&
          globalStep < totalSteps
        ) {
          // Mid-epoch checkpoint (an epoch's last step is saved with its epoch record below).
          const sofar = (performance.now() - epochStart) / 1000;
          epochSeconds += sofar;
          await save();
          epochSeconds -= sofar;
          checkpointed = true;
        }
        const imagesPerSecond = (stepsThisCall * batchSize * spec.viewsPerImage) / elapsed;
        const event: StepEvent = {
          epoch,
          epochs,
          step: epochStep - 1,
          stepsPerEpoch,
          globalStep,
          totalSteps,
          loss,
          learningRate: lr,
          imagesPerSecond,
          etaSeconds: ((totalSteps - globalStep) * elapsed) / stepsThisCall,
          ...(checkpointed ? { checkpointed } : {}),
        };
        for (const c of callbacks) await c.onStepEnd?.(event);
      }
      epochSeconds += (performance.now() - epochStart) / 1000;
      const complete = epochStep >= stepsPerEpoch || globalStep >= totalSteps;
      const record: EpochRecord = {
        epoch,
        loss: lossSum / Math.max(1, lossCount),
        learningRate: lr,
        imagesPerSecond:
          (lossCount * batchSize * spec.viewsPerImage) / Math.max(epochSeconds, 1e-9),
        seconds: epochSeconds,
      };
      if (!complete) {
        // Stopped mid-epoch: the checkpoint keeps the position and the running loss; the
        // caller and the log see a partial record, which a resume replaces by the full one.
        if (lossCount === 0) break;
        record.partial = true;
        await sync();
        if (config.evaluate) record.metrics = await config.evaluate(epoch);
        await save();
        result.push(record);
        if (metricsPath) await appendMetrics(metricsPath, record);
        for (const c of callbacks) await c.onEpochEnd?.(record);
        break;
      }
      await sync();
      if (config.evaluate) record.metrics = await config.evaluate(epoch);
      history.push(record);
      result.push(record);
      epoch++;
      epochStep = 0;
      lossSum = 0;
      lossCount = 0;
      epochSeconds = 0;
      const finished = epoch === epochs || globalStep >= totalSteps;
      const due =
        epoch % checkpointEvery === 0 ||
        finished ||
        (config.checkpointEverySteps !== undefined &&
          globalStep % config.checkpointEverySteps === 0);
      // Checkpoint first, then the log: a crash between them leaves a checkpoint with a record
      // the log lacks, which the resume restores (see rewriteMetrics above).
      if (due) await save();
      if (metricsPath) await appendMetrics(metricsPath, record);
      for (const c of callbacks) await c.onEpochEnd?.(record);
      if (stopped) break;
    }
    // Stopped at an epoch boundary without a checkpoint due there: save so a resume is exact.
    if (stopped) await save();
    await sync();
    if (stopped) stopReason = stopped;
    else if (planFitted && totalSteps < plannedSteps) stopReason = 'timeBudget';
    const previous = history.length - result.filter((r) => !r.partial).length;
    return {
      history: [...history.slice(0, previous), ...result],
      steps: stepsThisCall,
      stopReason,
      seconds: (performance.now() - started) / 1000,
      engine: engine.engine,
      ...(engine.note !== undefined ? { engineNote: engine.note } : {}),
    };
  }

  /** One tfjs step: the loss and its gradients on the tfjs backend, the tfjs optimizer's update. */
  async function tfjsStep(
    indices: Int32Array,
    logged: boolean,
  ): Promise<{ loss: number; gradNorm?: number }> {
    let gradNorm: number | undefined;
    const trainable = spec.trainable();
    let gradNormTensor: tf.Tensor | undefined;
    // webgpu has no synchronous reads: the losses' input NaN scans (a dataSync each) are off
    // during its steps; the loss itself is checked after its async read below.
    const finiteChecks = tf.getBackend() === 'webgpu' ? setFiniteChecks(false) : undefined;
    let lossTensor: tf.Tensor;
    try {
      lossTensor = guardGradientTape(() => {
        if (ownMinimize) return optimizer.minimize(() => spec.loss(indices, rng), true, trainable)!;
        const { value, grads } = optimizer.computeGradients(
          () => spec.loss(indices, rng),
          trainable,
        );
        try {
          if (logged) gradNormTensor = globalNorm(Object.values(grads));
          optimizer.applyGradients(
            trainable.map((v) => ({ name: v.name, tensor: grads[v.name]! })),
          );
        } finally {
          tf.dispose(grads);
        }
        return value;
      });
    } finally {
      if (finiteChecks !== undefined) setFiniteChecks(finiteChecks);
    }
    // An async read: webgpu (Dawn in Node) has no dataSync, and it does not block the tab.
    const loss = (await lossTensor.data())[0]!;
    lossTensor.dispose();
    if (gradNormTensor !== undefined) {
      gradNorm = (await gradNormTensor.data())[0]!;
      gradNormTensor.dispose();
    }

    return { loss, ...(gradNorm !== undefined ? { gradNorm } : {}) };
  }
}

/** √Σ‖g‖² over all gradients as a scalar tensor, read later asynchronously (the gradients stay the caller's). */
function globalNorm(grads: readonly (tf.Tensor | undefined)[]): tf.Tensor {
  return tf.tidy(() => {
    const squares = grads
      .filter((g): g is tf.Tensor => g !== undefined)
      .map((g) => tf.sum(tf.square(g)));
    return squares.length === 0 ? tf.scalar(0) : tf.sqrt(tf.addN(squares));
  });
}
