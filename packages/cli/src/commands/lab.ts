import { readFile } from 'node:fs/promises';
import { selectBackend } from '@ebmjs/backends';
import {
  LAB_METHOD_NAMES,
  type LabProgress,
  labSections,
  type RunLabOptions,
  runLab,
  TOY_DATASET_NAMES,
} from '@ebmjs/lab';
import { RBM_METHODS } from '@ebmjs/train';
import { numberFlag, parseFlags } from '../args.js';
import { backendLine, computesOn } from '../backend-line.js';
import { lineChart } from '../report/curves.js';
import { writeReport } from '../report/html.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const OPTIONS = {
  dataset: { type: 'string' },
  methods: { type: 'string' },
  steps: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  'rbm-steps': { type: 'string' },
  'rbm-methods': { type: 'string' },
  'rbm-hidden': { type: 'string' },
  'rbm-train': { type: 'string' },
  'no-rbm': { type: 'boolean' },
} as const;

/** `--methods ml,cd`: a comma list whose every word is one of `choices`. */
function listFlag<T extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly T[],
): T[] | undefined {
  if (value === undefined) return undefined;
  const words = value.split(',').filter(Boolean);
  const bad = words.find((w) => !choices.includes(w as T));
  if (words.length === 0 || bad !== undefined) {
    throw new CliUsageError(
      `--${flag} takes a comma list of ${choices.join(', ')}; received "${value}".`,
    );
  }
  return words as T[];
}

export const lab: Command = {
  name: 'lab',
  summary: 'the EBM lab: classic energy-based methods on 2-D data and an RBM on MNIST',
  help: [
    'Usage: ebm lab [options]',
    '',
    'Trains one MLP energy per method and 2-D dataset with the same budget, scores each by exact',
    'test NLL (grid-normalised), and trains an RBM on binarised MNIST per method, scored by test',
    'pseudo-log-likelihood. Writes table.md, table.json, energies.png, rbm-samples.png and',
    'report.html under --out.',
    '',
    'Options:',
    `  --dataset <a,b>        2-D datasets: ${TOY_DATASET_NAMES.join(', ')} (default all)`,
    `  --methods <a,b>        2-D methods: ${LAB_METHOD_NAMES.join(', ')} (default all)`,
    '  --steps <n>            optimizer steps per 2-D method (default 500)',
    '  --out <dir>            output directory (default runs/lab-<date>-<time>)',
    '  --seed <n>             seeds data, nets and samplers (default 0)',
    '  --rbm-steps <n>        optimizer steps per RBM method (default 1500)',
    `  --rbm-methods <a,b>    ${RBM_METHODS.join(', ')} (default all)`,
    '  --rbm-hidden <n>       RBM hidden units (default 64)',
    '  --rbm-train <n>        RBM training images (default 20000)',
    '  --no-rbm               skip the RBM part',
    '',
    'The whole lab takes about 30 min on 2 cores (wasm backend). A quick look:',
    '  ebm lab --dataset 8gaussians,moons --methods ml,cd,nce --steps 300 --no-rbm',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS);
    const int = (name: string, min: number) =>
      numberFlag(flags.string(name), name, { integer: true, min });
    const datasets = listFlag(flags.string('dataset'), 'dataset', TOY_DATASET_NAMES);
    const methods = listFlag(flags.string('methods'), 'methods', LAB_METHOD_NAMES);
    const rbmMethods = listFlag(flags.string('rbm-methods'), 'rbm-methods', RBM_METHODS);
    const steps = int('steps', 1);
    const seed = int('seed', 0);
    const rbmSteps = int('rbm-steps', 1);
    const rbmHidden = int('rbm-hidden', 1);
    const rbmTrain = int('rbm-train', 1);
    const out = flags.string('out');

    const backend = await selectBackend();
    io.err(backendLine(backend));
    const started = performance.now();
    const seconds = () => ((performance.now() - started) / 1000).toFixed(0);
    let current = '';
    // Loss per step of every method, by chart (a toy dataset, or the RBM), for report.html.
    const losses = new Map<string, Map<string, [number, number][]>>();
    const onProgress = (e: LabProgress) => {
      if (e.phase === 'write') {
        if (!e.file.endsWith('report.html')) io.err(`[${seconds()}s] wrote ${e.file}`);
        return;
      }
      const chart = e.phase === 'toy' ? e.dataset : 'rbm';
      const byMethod = losses.get(chart) ?? new Map<string, [number, number][]>();
      losses.set(chart, byMethod);
      byMethod.set(e.method, [...(byMethod.get(e.method) ?? []), [e.step + 1, e.loss]]);
      // One line when a method starts, at each quarter of its steps, and when it ends.
      const what = e.phase === 'toy' ? `${e.dataset}/${e.method}` : `rbm/${e.method}`;
      const quarter = Math.max(1, Math.floor(e.steps / 4));
      if (what !== current || e.step + 1 >= e.steps || e.step % quarter === 0) {
        io.err(`[${seconds()}s] ${what} step ${e.step + 1}/${e.steps} loss ${e.loss.toFixed(4)}`);
        current = what;
      }
    };
    const options: RunLabOptions = {
      ...(datasets ? { datasets } : {}),
      ...(methods ? { methods } : {}),
      ...(steps !== undefined ? { steps } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(out !== undefined ? { out } : {}),
      rbm: flags.bool('no-rbm')
        ? false
        : {
            ...(rbmSteps !== undefined ? { steps: rbmSteps } : {}),
            ...(rbmMethods ? { methods: rbmMethods } : {}),
            ...(rbmHidden !== undefined ? { numHidden: rbmHidden } : {}),
            ...(rbmTrain !== undefined ? { trainSize: rbmTrain } : {}),
          },
      command: ['ebm lab', ...args].join(' '),
      onProgress,
    };
    const result = await runLab(options);
    // runLab's report.html, redrawn in the report template of ebm demo/train/eval, with the
    // loss of every method per step added.
    const png = (path: string | undefined) => (path ? readFile(path) : undefined);
    const energiesPng = await png(result.files.energiesPng);
    const rbmSamplesPng = await png(result.files.rbmSamplesPng);
    const curves = [...losses.entries()]
      .map(([chart, byMethod]) =>
        lineChart(
          chart === 'rbm' ? 'RBM training loss' : `${chart}: training loss`,
          'optimizer step',
          [...byMethod.entries()].map(([name, points]) => ({ name, points, style: 'line' })),
        ),
      )
      .join('');
    await writeReport(result.files.reportHtml, {
      title: 'EBM lab',
      sections: [
        ...(curves
          ? [{ title: 'Training loss per step', html: `<div class="row">${curves}</div>` }]
          : []),
        ...labSections({
          ...(result.toy ? { toy: result.toy } : {}),
          ...(result.rbm ? { rbm: result.rbm } : {}),
          backend: backend.backend,
          ...(energiesPng ? { energiesPng } : {}),
          ...(rbmSamplesPng ? { rbmSamplesPng } : {}),
        }),
      ],
      settings: {
        command: options.command,
        backend: `${backend.backend} (${computesOn(backend)})`,
        ...Object.fromEntries(
          Object.entries(options).filter(([k]) => k !== 'command' && k !== 'onProgress'),
        ),
      },
    });
    io.err(`[${seconds()}s] wrote ${result.files.reportHtml}`);
    io.out(result.markdown);
    io.out(`lab finished in ${seconds()} s; results in ${result.out}`);
    return 0;
  },
};
