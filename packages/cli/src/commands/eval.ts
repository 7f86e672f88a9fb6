import { join } from 'node:path';
import { selectBackend } from '@ebmjs/backends';
import { evaluateEmbedder } from '@ebmjs/train';
import { checkDatasetFlag, numberFlag, parseFlags, requirePath } from '../args.js';
import { computesOn } from '../backend-line.js';
import { resolveDataset } from '../datasets.js';
import { embeddingParts, readRunJson, readRunLog, tfjsEmbed } from '../report/collect.js';
import { writeReport } from '../report/html.js';
import { recipeAugmentation } from '../report/views.js';
import { loadRunEncoder } from '../run-dir.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const OPTIONS = {
  dataset: { type: 'string' },
  k: { type: 'string' },
  temperature: { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  report: { type: 'string' },
  'no-report': { type: 'boolean' },
} as const;

export const evaluate: Command = {
  name: 'eval',
  summary: 'kNN and linear-probe accuracy of a trained encoder',
  help: [
    'Usage: ebm eval <run-dir|encoder-dir> [options]',
    '',
    'Options:',
    "  --dataset <mnist|fashion-mnist|cifar10|cifar100|stl10|dir>  evaluation data (default: the run's dataset)",
    '  --k <n>                neighbours of the kNN classifier (default 200)',
    '  --temperature <x>      kNN vote temperature (default 0.1)',
    '  --train-limit <n>      use n training images as the kNN bank / probe training set',
    '  --test-limit <n>       score n test images',
    '  --report <file>        where report.html goes (default <run-dir>/report.html)',
    '  --no-report            skip report.html (curves, UMAP/PCA, neighbour gallery, views)',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS, { positionals: 1 });
    const path = flags.positionals[0];
    if (path === undefined) throw new CliUsageError('missing run directory: ebm eval <run-dir>.');
    const datasetFlag = flags.string('dataset');
    const trainLimit = numberFlag(flags.string('train-limit'), 'train-limit', {
      integer: true,
      min: 1,
    });
    const testLimit = numberFlag(flags.string('test-limit'), 'test-limit', {
      integer: true,
      min: 1,
    });
    const k = numberFlag(flags.string('k'), 'k', { integer: true, min: 1 }) ?? 200;
    const temperature = numberFlag(flags.string('temperature'), 'temperature', { above: 0 }) ?? 0.1;
    await requirePath(path, 'run or encoder directory', 'directory');
    if (datasetFlag !== undefined) await checkDatasetFlag(datasetFlag);

    const backend = await selectBackend();
    const { encoder, info } = await loadRunEncoder(path);
    const datasetName = datasetFlag ?? info?.dataset ?? 'mnist';
    const train = await resolveDataset(datasetName, 'train', trainLimit);
    const test = await resolveDataset(datasetName, 'test', testLimit);
    const result = evaluateEmbedder(encoder.model, train, test, {
      knn: { k, temperature },
    });
    io.out(
      `kNN accuracy ${(result.knn * 100).toFixed(2)}%  linear probe ${(result.linear * 100).toFixed(2)}%  (${train.labels.length} train / ${test.labels.length} test images, ${result.seconds.toFixed(1)} s)`,
    );
    if (!flags.bool('no-report')) {
      const reportFile = flags.string('report') ?? join(path, 'report.html');
      // The run's own curves and settings (when path is a run directory) and this evaluation.
      const runJson = info ? await readRunJson(path) : undefined;
      await writeReport(reportFile, {
        title: `ebm eval: ${info?.recipe ?? 'encoder'} on ${datasetName} (${path})`,
        summary: {
          'kNN accuracy': result.knn,
          'linear-probe accuracy': result.linear,
          k,
          temperature,
          'train / test images': `${train.labels.length} / ${test.labels.length}`,
        },
        settings: {
          ...(runJson ?? {}),
          'eval backend': `${backend.backend} (${computesOn(backend)})`,
        },
        ...(info ? await readRunLog(path) : {}),
        ...(await embeddingParts({
          embed: tfjsEmbed(encoder.model),
          train,
          test,
          ...(info ? { augmentation: recipeAugmentation(info.recipe, train.imageShape) } : {}),
        })),
      });
      io.out(`report: ${reportFile}`);
    }
    encoder.model.dispose();
    return 0;
  },
};
