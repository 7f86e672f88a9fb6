import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '@ebmjs/backends';
import { saveModel } from '@ebmjs/models';
import {
  type OptimizerName,
  progressBar,
  type TrainConfig,
  trainMoCo,
  trainPIRL,
  trainSimCLR,
} from '@ebmjs/train';
import { checkDatasetFlag, choiceFlag, numberFlag, parseFlags } from '../args.js';
import { backendLine } from '../backend-line.js';
import { resolveDataset } from '../datasets.js';
import { writeRunInfo } from '../run-dir.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const RECIPES = ['simclr', 'moco', 'pirl'] as const;
type Recipe = (typeof RECIPES)[number];

const OPTIONS = {
  dataset: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  'weight-decay': { type: 'string' },
  temperature: { type: 'string' },
  'warmup-epochs': { type: 'string' },
  'time-budget': { type: 'string' },
  'max-steps': { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
  'checkpoint-every-steps': { type: 'string' },
  resume: { type: 'boolean', default: false },
  extend: { type: 'boolean', default: false },
} as const;

export const train: Command = {
  name: 'train',
  summary: 'train an encoder with a contrastive recipe (simclr, moco, pirl)',
  help: [
    'Usage: ebm train <simclr|moco|pirl> [options]',
    '',
    'Options:',
    '  --dataset <mnist|fashion-mnist|cifar10|cifar100|stl10|dir>  training data (default mnist; a dir has one folder per class)',
    '  --epochs <n>              passes over the data (default 1)',
    '  --batch-size <n>          images per step (default 256)',
    '  --lr <x>                  base learning rate (default 1e-3)',
    '  --optimizer <name>        sgd | adam | adamw | lars (default adam)',
    '  --weight-decay <x>        for adamw and lars',
    '  --temperature <x>         loss temperature (recipe default)',
    '  --warmup-epochs <x>       linear warm-up before the cosine decay (default 0)',
    '  --time-budget <seconds>   fit the run into this wall time (--resume completes the fitted run)',
    '  --max-steps <n>           stop after n optimizer steps (the plan stays: --resume completes it)',
    '  --limit <n>               use a random subset of n training images',
    '  --seed <n>                random seed (default 0)',
    '  --out <dir>               run directory (default runs/<recipe>-<dataset>)',
    '  --config <file.json>      options as JSON (flags override it)',
    '  --checkpoint-every-steps <n>  also checkpoint every n steps, mid-epoch (default: each epoch)',
    '  --resume                  continue from <out>/checkpoint (same settings, exactly)',
    '  --extend                  with --resume: train a run for more --epochs',
    '',
    'Writes <out>/metrics.jsonl (one line per epoch), <out>/checkpoint/, <out>/encoder/ and <out>/run.json.',
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
    const lr = numberFlag(get('lr', 'lr'), 'lr', { above: 0 }) ?? 1e-3;
    const weightDecay = numberFlag(get('weight-decay', 'weightDecay'), 'weight-decay', { min: 0 });
    const temperature = numberFlag(get('temperature', 'temperature'), 'temperature', {
      above: 0,
    });
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
      resume: flags.bool('resume'),
      extend: flags.bool('extend'),
    };
    if (config.extend && !config.resume) throw new CliUsageError('--extend needs --resume.');

    if (out.trim() === '') throw new CliUsageError('--out must not be empty.');
    await checkDatasetFlag(datasetName);

    const dataset = await resolveDataset(datasetName, 'train', limit);
    const backend = await selectBackend();
    io.err(backendLine(backend));
    io.err(
      `data: ${dataset.name}, ${dataset.labels.length} images of [${dataset.imageShape.join(', ')}]`,
    );
    await mkdir(out, { recursive: true });
    config.callbacks = [progressBar()];
    // The first Ctrl-C stops at the next step with a checkpoint; a second one quits at once.
    const interrupt = new AbortController();
    const onSigint = () => {
      io.err('interrupted: writing a checkpoint after this step (Ctrl-C again to quit now)');
      interrupt.abort();
    };
    process.once('SIGINT', onSigint);
    const common = {
      ...config,
      dataset,
      signal: interrupt.signal,
      ...(temperature !== undefined ? { temperature } : {}),
    };
    let result: Awaited<ReturnType<typeof trainSimCLR | typeof trainPIRL>>;
    try {
      result =
        recipe === 'simclr'
          ? await trainSimCLR(common)
          : recipe === 'moco'
            ? await trainMoCo(common)
            : await trainPIRL(common);
    } finally {
      process.off('SIGINT', onSigint);
    }
    await saveModel(result.encoder.model, join(out, 'encoder'));
    await writeRunInfo(out, {
      recipe,
      dataset: datasetName,
      imageShape: [...dataset.imageShape],
      config: { ...config, callbacks: undefined, optimizer: config.optimizer, temperature },
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
