import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '@ebmjs/backends';
import { convEncoder, type Encoder, saveModel } from '@ebmjs/models';
import {
  type ImageDataset,
  knnMonitor,
  type Monitor,
  type OptimizerName,
  onlineLinearProbe,
  progressBar,
  type TrainConfig,
  type TrainingEngineName,
  type TrainingMonitors,
  type TrainResult,
  take,
  trainBarlowTwins,
  trainBYOL,
  trainingMonitors,
  trainMoCo,
  trainPIRL,
  trainSimCLR,
  trainSimSiam,
  trainVICReg,
} from '@ebmjs/train';
import { checkDatasetFlag, choiceFlag, numberFlag, parseFlags } from '../args.js';
import { backendLine } from '../backend-line.js';
import { resolveDataset } from '../datasets.js';
import { reportCallbacks, reportPath } from '../report/callback.js';
import { tfjsEmbed } from '../report/collect.js';
import { recipeAugmentation } from '../report/views.js';
import { runBackend, writeRunInfo } from '../run-dir.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const RECIPES = ['simclr', 'moco', 'pirl', 'byol', 'simsiam', 'vicreg', 'barlow-twins'] as const;
type Recipe = (typeof RECIPES)[number];

/** Flags that only some recipes take (the others' options would refuse the key). */
const RECIPE_FLAGS: Record<string, readonly Recipe[]> = {
  temperature: ['simclr', 'moco', 'pirl'],
  momentum: ['byol'],
  invariance: ['vicreg'],
  variance: ['vicreg'],
  covariance: ['vicreg'],
  lambda: ['barlow-twins'],
  'local-crops': ['simclr', 'byol', 'simsiam', 'vicreg', 'barlow-twins'],
  'local-size': ['simclr', 'byol', 'simsiam', 'vicreg', 'barlow-twins'],
};

const OPTIONS = {
  dataset: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  engine: { type: 'string' },
  'weight-decay': { type: 'string' },
  temperature: { type: 'string' },
  'projection-dim': { type: 'string' },
  momentum: { type: 'string' },
  invariance: { type: 'string' },
  variance: { type: 'string' },
  covariance: { type: 'string' },
  lambda: { type: 'string' },
  'local-crops': { type: 'string' },
  'local-size': { type: 'string' },
  'warmup-epochs': { type: 'string' },
  'time-budget': { type: 'string' },
  'max-steps': { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
  'checkpoint-every-steps': { type: 'string' },
  'log-every': { type: 'string' },
  'knn-every': { type: 'string' },
  'online-probe': { type: 'boolean', default: false },
  'monitor-bank': { type: 'string' },
  'monitor-test': { type: 'string' },
  'no-report': { type: 'boolean', default: false },
  resume: { type: 'boolean', default: false },
  extend: { type: 'boolean', default: false },
} as const;

export const train: Command = {
  name: 'train',
  summary:
    'train an encoder with a self-supervised recipe (simclr, moco, pirl, byol, simsiam, vicreg, barlow-twins)',
  help: [
    'Usage: ebm train <simclr|moco|pirl|byol|simsiam|vicreg|barlow-twins> [options]',
    '',
    'Options:',
    '  --dataset <mnist|fashion-mnist|cifar10|cifar100|stl10|dir>  training data (default mnist; a dir has one folder per class)',
    '  --epochs <n>              passes over the data (default 1)',
    '  --batch-size <n>          images per step (default 256)',
    '  --lr <x>                  base learning rate (default 1e-3)',
    '  --optimizer <name>        sgd | adam | adamw | lars (default adam)',
    '  --engine <name>           tfjs | onnxruntime (the whole step as one ONNX graph on native kernels) | auto (default tfjs)',
    '  --weight-decay <x>        for adamw and lars',
    '  --temperature <x>         loss temperature (simclr, moco, pirl; recipe default)',
    '  --projection-dim <n>      projection (expander) size (recipe default)',
    '  --momentum <x>            byol: base target momentum of the cosine schedule to 1 (default 0.99)',
    '  --invariance <x>          vicreg: invariance weight (default 25)',
    '  --variance <x>            vicreg: variance weight (default 25)',
    '  --covariance <x>          vicreg: covariance weight (default 1)',
    '  --lambda <x>              barlow-twins: off-diagonal weight (default 5e-3)',
    '  --local-crops <n>         multi-crop: 2 global + n local views (simclr, byol, simsiam, vicreg, barlow-twins)',
    '  --local-size <px>         side of a local view (default 96/224 of the image side)',
    '  --warmup-epochs <x>       linear warm-up before the cosine decay (default 0)',
    '  --time-budget <seconds>   fit the run into this wall time (--resume completes the fitted run)',
    '  --max-steps <n>           stop after n optimizer steps (the plan stays: --resume completes it)',
    '  --limit <n>               use a random subset of n training images',
    '  --seed <n>                random seed (default 0)',
    '  --out <dir>               run directory (default runs/<recipe>-<dataset>)',
    '  --config <file.json>      options as JSON (flags override it)',
    '  --checkpoint-every-steps <n>  also checkpoint every n steps, mid-epoch (default: each epoch)',
    '  --log-every <n>           a step record (loss, lr, img/s, gradient norm) in metrics.jsonl every n steps; 0: none (default 10)',
    '  --knn-every <n>           kNN monitor: kNN accuracy (k 200, τ 0.1, as ebm eval) every n epochs and after the last; 0: off (default 0)',
    '  --online-probe            online linear probe: a linear head trained alongside on frozen embeddings, its test accuracy every epoch',
    '  --monitor-bank <n>        monitors: training images as kNN bank / probe training set (default 10000; ebm eval --train-limit n)',
    '  --monitor-test <n>        monitors: test images scored (default 2000; ebm eval --test-limit n)',
    '  --no-report               skip <out>/report.html (rewritten after every epoch: curves, UMAP/PCA, gallery, views)',
    '  --resume                  continue from <out>/checkpoint (same settings, exactly)',
    '  --extend                  with --resume: train a run for more --epochs',
    '',
    'Writes <out>/metrics.jsonl (a line per epoch, and per --log-every steps), <out>/checkpoint/, <out>/encoder/, <out>/run.json and <out>/report.html.',
    'Monitor numbers (knn, linearProbe: fractions, and the step measured at) go into the epoch lines and the progress line.',
    'Ctrl-C (SIGINT) writes a checkpoint and stops after the current step; --resume continues.',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS, { positionals: 1 });
    const positionals = flags.positionals;
    const recipe = positionals[0] as Recipe | undefined;
    if (recipe === undefined)
      throw new CliUsageError(`missing recipe: ebm train <${RECIPES.join('|')}>.`);
    if (!RECIPES.includes(recipe))
      throw new CliUsageError(`unknown recipe "${recipe}". Recipes: ${RECIPES.join(', ')}.`);
    const configPath = flags.string('config');
    const fileConfig = configPath ? await readConfig(configPath) : {};
    // A flag wins over the same key in --config (camelCase there).
    const get = (flag: string, key: string): string | undefined =>
      flags.string(flag) ?? (fileConfig[key] === undefined ? undefined : String(fileConfig[key]));

    const datasetName = get('dataset', 'dataset') ?? 'mnist';
    const limit = numberFlag(get('limit', 'limit'), 'limit', { integer: true, min: 2 });
    const out =
      get('out', 'out') ?? join('runs', `${recipe}-${datasetName.replace(/[^a-z0-9-]+/gi, '_')}`);
    const optimizerName =
      choiceFlag<OptimizerName>(get('optimizer', 'optimizer'), 'optimizer', [
        'sgd',
        'adam',
        'adamw',
        'lars',
      ]) ?? 'adam';
    const engine =
      choiceFlag<TrainingEngineName>(get('engine', 'engine'), 'engine', [
        'tfjs',
        'onnxruntime',
        'auto',
      ]) ?? 'tfjs';
    const lr = numberFlag(get('lr', 'lr'), 'lr', { above: 0 }) ?? 1e-3;
    const weightDecay = numberFlag(get('weight-decay', 'weightDecay'), 'weight-decay', { min: 0 });
    const temperature = numberFlag(get('temperature', 'temperature'), 'temperature', {
      above: 0,
    });
    const projectionDim = numberFlag(get('projection-dim', 'projectionDim'), 'projection-dim', {
      integer: true,
      min: 1,
    });
    const momentum = numberFlag(get('momentum', 'momentum'), 'momentum', { min: 0 });
    if (momentum !== undefined && momentum > 1)
      throw new CliUsageError(`--momentum must be a number in [0, 1], received "${momentum}".`);
    const invariance = numberFlag(get('invariance', 'invariance'), 'invariance', { min: 0 });
    const variance = numberFlag(get('variance', 'variance'), 'variance', { min: 0 });
    const covariance = numberFlag(get('covariance', 'covariance'), 'covariance', { min: 0 });
    const lambda = numberFlag(get('lambda', 'lambda'), 'lambda', { min: 0 });
    const recipeOptions: Record<string, number | undefined> = {
      temperature,
      projectionDim,
      momentum,
      invariance,
      variance,
      covariance,
      lambda,
    };
    const localCrops = numberFlag(get('local-crops', 'localCrops'), 'local-crops', {
      integer: true,
      min: 1,
    });
    const localSize = numberFlag(get('local-size', 'localSize'), 'local-size', {
      integer: true,
      min: 1,
    });
    if (localSize !== undefined && localCrops === undefined)
      throw new CliUsageError('--local-size needs --local-crops.');
    const flagValues: Record<string, number | undefined> = {
      ...recipeOptions,
      'local-crops': localCrops,
      'local-size': localSize,
    };
    for (const [flag, recipes] of Object.entries(RECIPE_FLAGS)) {
      if (flagValues[flag] !== undefined && !recipes.includes(recipe))
        throw new CliUsageError(`--${flag} applies to ${recipes.join(', ')}, not to ${recipe}.`);
    }
    const config: TrainConfig = {
      epochs: numberFlag(get('epochs', 'epochs'), 'epochs', { integer: true, min: 1 }),
      batchSize: numberFlag(get('batch-size', 'batchSize'), 'batch-size', {
        integer: true,
        min: 2,
      }),
      optimizer: {
        name: optimizerName,
        learningRate: lr,
        ...(weightDecay !== undefined ? { weightDecay } : {}),
      },
      engine,
      warmupEpochs: numberFlag(get('warmup-epochs', 'warmupEpochs'), 'warmup-epochs', { min: 0 }),
      timeBudgetSeconds: numberFlag(get('time-budget', 'timeBudgetSeconds'), 'time-budget', {
        above: 0,
      }),
      maxSteps: numberFlag(get('max-steps', 'maxSteps'), 'max-steps', { integer: true, min: 1 }),
      seed: numberFlag(get('seed', 'seed'), 'seed', { integer: true, min: 0 }) ?? 0,
      runDir: out,
      checkpointEverySteps: numberFlag(
        get('checkpoint-every-steps', 'checkpointEverySteps'),
        'checkpoint-every-steps',
        { integer: true, min: 1 },
      ),
      logEverySteps: numberFlag(get('log-every', 'logEverySteps'), 'log-every', {
        integer: true,
        min: 0,
      }),
      resume: flags.bool('resume'),
      extend: flags.bool('extend'),
    };
    if (config.extend && !config.resume) throw new CliUsageError('--extend needs --resume.');
    const monitoring = monitorFlags(
      get,
      flags.bool('online-probe') || fileConfig['onlineProbe'] === true,
    );

    if (out.trim() === '') throw new CliUsageError('--out must not be empty.');
    await checkDatasetFlag(datasetName);

    // The whole training split once: --limit's subset and the monitors' bank both come from it.
    const trainSplit = await resolveDataset(datasetName, 'train');
    const dataset = limit === undefined ? trainSplit : take(trainSplit, limit, 0);
    const backend = await selectBackend();
    io.err(backendLine(backend));
    io.err(
      `data: ${dataset.name}, ${dataset.labels.length} images of [${dataset.imageShape.join(', ')}]`,
    );
    await mkdir(out, { recursive: true });
    config.callbacks = [
      {
        onStart: (event) => {
          io.err(`engine: ${event.engine}${event.engineNote ? ` (${event.engineNote})` : ''}`);
        },
      },
      progressBar(),
    ];
    let monitors: TrainingMonitors | undefined;
    const report = !flags.bool('no-report');
    // The monitors and the report need the encoder while it trains: build the recipe's default
    // one here (the recipe would build the same one: training is unchanged).
    const encoder =
      monitoring || report ? defaultEncoder(recipe, dataset, config.seed ?? 0) : undefined;
    if (monitoring && encoder) {
      const test = await resolveDataset(datasetName, 'test', monitoring.test);
      monitors = trainingMonitors(
        encoder,
        monitorsFor(monitoring, take(trainSplit, monitoring.bank, 0), test),
      );
      config.evaluate = monitors.evaluate;
      config.callbacks = [monitors.callbacks, ...config.callbacks];
      io.err(
        `monitors: ${[monitoring.knnEvery > 0 && `kNN every ${monitoring.knnEvery} epoch(s)`, monitoring.onlineProbe && 'online linear probe'].filter(Boolean).join(', ')} on ${Math.min(monitoring.bank, trainSplit.labels.length)} training / ${test.labels.length} test images`,
      );
    }
    if (report && encoder) {
      // As many test images as training images, up to 2,000: a tiny run gets a quick report.
      const reportTest = await resolveDataset(
        datasetName,
        'test',
        Math.min(2000, dataset.labels.length),
      );
      config.callbacks = [
        ...config.callbacks,
        reportCallbacks({
          path: reportPath(out),
          title: `ebm train ${recipe} on ${datasetName}`,
          runDir: out,
          epochs: config.epochs,
          embed: tfjsEmbed(encoder.model),
          train: dataset,
          test: reportTest,
          bankCount: 2000,
          augmentation: recipeAugmentation(recipe, dataset.imageShape),
          settings: { recipe, dataset: datasetName, ...config, callbacks: undefined },
          onError: (error) => io.err(`note: report.html not updated: ${String(error)}`),
        }),
      ];
    }
    // The first Ctrl-C stops at the next step with a checkpoint; a second one quits at once.
    const interrupt = new AbortController();
    const onSigint = () => {
      io.err('interrupted: writing a checkpoint after this step (Ctrl-C again to quit now)');
      interrupt.abort();
    };
    process.once('SIGINT', onSigint);
    // Only the options given: each recipe's own defaults apply to the rest.
    const given: Record<string, unknown> = Object.fromEntries(
      Object.entries(recipeOptions).filter(([, v]) => v !== undefined),
    );
    if (localCrops !== undefined)
      given['multiCrop'] = { local: localCrops, ...(localSize !== undefined ? { localSize } : {}) };
    const common = {
      ...config,
      dataset,
      signal: interrupt.signal,
      ...given,
      ...(encoder ? { encoder } : {}),
    };
    let result: { encoder: { model: Parameters<typeof saveModel>[0] } } & TrainResult;
    try {
      result =
        recipe === 'simclr'
          ? await trainSimCLR(common)
          : recipe === 'moco'
            ? await trainMoCo(common)
            : recipe === 'pirl'
              ? await trainPIRL(common)
              : recipe === 'byol'
                ? await trainBYOL(common)
                : recipe === 'simsiam'
                  ? await trainSimSiam(common)
                  : recipe === 'vicreg'
                    ? await trainVICReg(common)
                    : await trainBarlowTwins(common);
    } finally {
      process.off('SIGINT', onSigint);
      monitors?.dispose();
    }
    await saveModel(result.encoder.model, join(out, 'encoder'));
    await writeRunInfo(out, {
      recipe,
      dataset: datasetName,
      imageShape: [...dataset.imageShape],
      config: {
        ...config,
        callbacks: undefined,
        evaluate: undefined,
        optimizer: config.optimizer,
        ...given,
      },
      ...(monitoring ? { monitors: monitoring } : {}),
      backend: runBackend(backend),
      engine: result.engine,
      ...(result.engineNote ? { engineNote: result.engineNote } : {}),
      stopReason: result.stopReason,
      seconds: result.seconds,
    });
    const last = result.history.at(-1);
    io.out(
      `trained ${recipe} for ${result.steps} steps in ${result.seconds.toFixed(1)} s (${result.stopReason})` +
        (last ? `, final loss ${last.loss.toFixed(4)}` : '') +
        `; encoder saved to ${join(out, 'encoder')}` +
        (result.stopReason === 'aborted' ? `; continue with --resume --out ${out}` : ''),
    );
    // 128 + SIGINT, as a shell reports a process that Ctrl-C stopped.
    return result.stopReason === 'aborted' ? 130 : 0;
  },
};

async function readConfig(path: string): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(path, 'utf8').catch(() => {
    throw new CliUsageError(`cannot read --config file ${path}.`);
  });
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new CliUsageError(`--config ${path} is not a JSON object.`);
  }
}

/** The monitor flags (--knn-every, --online-probe, --monitor-bank, --monitor-test), checked. */
type MonitorSettings = {
  knnEvery: number;
  onlineProbe: boolean;
  bank: number;
  test: number;
  k: number;
  temperature: number;
};

function monitorFlags(
  get: (flag: string, key: string) => string | undefined,
  onlineProbe: boolean,
): MonitorSettings | undefined {
  const knnEvery =
    numberFlag(get('knn-every', 'knnEvery'), 'knn-every', { integer: true, min: 0 }) ?? 0;
  const bank = numberFlag(get('monitor-bank', 'monitorBank'), 'monitor-bank', {
    integer: true,
    min: 1,
  });
  const test = numberFlag(get('monitor-test', 'monitorTest'), 'monitor-test', {
    integer: true,
    min: 1,
  });
  if (knnEvery === 0 && !onlineProbe) {
    if (bank !== undefined || test !== undefined)
      throw new CliUsageError(
        `--${bank !== undefined ? 'monitor-bank' : 'monitor-test'} sizes the monitors: it needs --knn-every n or --online-probe.`,
      );
    return undefined;
  }
  // k and τ: ebm eval's defaults, so the last kNN value is what ebm eval reports.
  return {
    knnEvery,
    onlineProbe,
    bank: bank ?? 10000,
    test: test ?? 2000,
    k: 200,
    temperature: 0.1,
  };
}

function monitorsFor(settings: MonitorSettings, bank: ImageDataset, test: ImageDataset): Monitor[] {
  const { k, temperature } = settings;
  return [
    ...(settings.knnEvery > 0
      ? [knnMonitor({ bank, test, every: settings.knnEvery, k, temperature })]
      : []),
    ...(settings.onlineProbe ? [onlineLinearProbe({ train: bank, test })] : []),
  ];
}

/**
 * The encoder each recipe builds when given none (encoderFor in @ebmjs/train; PIRL's takes
 * any image size), with the run's seed: the same weights and fingerprint, so a run with
 * monitors trains exactly as one without and resumes either way.
 */
function defaultEncoder(recipe: Recipe, dataset: ImageDataset, seed: number): Encoder {
  const [h, w, c] = dataset.imageShape;
  return convEncoder({ inputShape: recipe === 'pirl' ? [null, null, c] : [h, w, c], seed });
}
