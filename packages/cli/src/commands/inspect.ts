import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/contract';
import { inspectOnnx } from '@ebmjs/export';
import { readMetrics, readStepMetrics } from '@ebmjs/train/node';
import { parseFlags } from '../args.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const OPTIONS = { json: { type: 'boolean', default: false } } as const;

/** ONNX TensorProto.DataType names for the types an encoder's inputs and outputs use. */
const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  10: 'float16',
  11: 'float64',
};

export const inspect: Command = {
  name: 'inspect',
  summary: 'what a run directory or an .onnx model is (recipe, settings, shapes, metadata)',
  help: [
    'Usage: ebm inspect <run-dir | model.onnx> [--json]',
    '',
    'A run directory: recipe, settings (run.json), epochs and steps done, last losses,',
    'recorded accuracies, and the checkpoint / encoder / ONNX files present.',
    'An .onnx file: inputs and outputs (names, shapes, types), embedding size and the',
    'ebm.js metadata (preprocessing, layout, version).',
    '',
    'Options:',
    '  --json   print one JSON object instead of text',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS, { positionals: 1 });
    const path = flags.positionals[0];
    if (path === undefined)
      throw new CliUsageError('missing path: ebm inspect <run-dir | model.onnx>.');
    const info = await stat(path).catch(() => undefined);
    if (info === undefined)
      throw new EbmError('IO', `no such run directory or model file: ${path}`, { path });
    const report = info.isDirectory() ? await inspectRun(path) : await inspectModel(path);
    if (flags.bool('json')) io.out(JSON.stringify(report, null, 2));
    else for (const line of reportLines(report)) io.out(line);
    return 0;
  },
};

type Report = Record<string, unknown> & { kind: 'run' | 'onnx'; path: string };

async function inspectModel(path: string): Promise<Report> {
  const summary = inspectOnnx(new Uint8Array(await readFile(path)));
  const output = summary.outputs[0];
  const last = output?.shape.at(-1);
  const typed = (v: { name: string; shape: (number | string)[]; elemType: number }) => ({
    name: v.name,
    shape: v.shape,
    type: ELEM_TYPES[v.elemType] ?? `onnx type ${v.elemType}`,
  });
  return {
    kind: 'onnx',
    path,
    inputs: summary.inputs.map(typed),
    outputs: summary.outputs.map(typed),
    embeddingDim: typeof last === 'number' && last > 0 ? last : null,
    opset: summary.opset,
    producer: `${summary.producerName} ${summary.producerVersion}`.trim(),
    metadata: summary.metadata,
  };
}

async function inspectRun(path: string): Promise<Report> {
  const files = await readdir(path);
  const isRun = ['run.json', 'metrics.jsonl', 'checkpoint', 'encoder'].some((f) =>
    files.includes(f),
  );
  if (!isRun)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${path} is not a run directory (expected run.json, metrics.jsonl, checkpoint/ or encoder/ in it).`,
      { path },
    );
  const run = files.includes('run.json')
    ? (JSON.parse(await readFile(join(path, 'run.json'), 'utf8')) as Record<string, unknown>)
    : undefined;
  const log = join(path, 'metrics.jsonl');
  const epochs = files.includes('metrics.jsonl') ? await readMetrics(log) : [];
  const steps = files.includes('metrics.jsonl') ? await readStepMetrics(log) : [];
  const done = epochs.filter((e) => !e.partial);
  // The last epoch that measured something (a monitor not due leaves its record's metrics {}).
  const metrics = [...epochs]
    .reverse()
    .find((e) => Object.keys(e.metrics ?? {}).length > 0)?.metrics;
  return {
    kind: 'run',
    path,
    recipe: run?.['recipe'] ?? null,
    dataset: run?.['dataset'] ?? null,
    backend: run?.['backend'] ?? null,
    engine: run?.['engine'] ?? null,
    settings: run?.['config'] ?? null,
    stopReason: run?.['stopReason'] ?? null,
    epochsDone: done.length,
    stepsLogged: steps.at(-1)?.step ?? null,
    lastLosses: epochs.slice(-3).map((e) => e.loss),
    accuracy: metrics ?? null,
    files: {
      checkpoint: files.includes('checkpoint'),
      encoder: files.includes('encoder'),
      onnx: files.filter((f) => f.endsWith('.onnx')),
    },
  };
}

function reportLines(r: Report): string[] {
  const j = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  if (r.kind === 'onnx') {
    const io = (label: string, list: unknown) =>
      (list as { name: string; shape: unknown[]; type: string }[]).map(
        (v) => `${label} ${v.name}: ${v.type} [${v.shape.join(', ')}]`,
      );
    return [
      `ONNX model ${r.path} (opset ${r['opset']}, ${r['producer'] || 'unknown producer'})`,
      ...io('input', r['inputs']),
      ...io('output', r['outputs']),
      `embedding size: ${r['embeddingDim'] ?? 'dynamic'}`,
      ...Object.entries(r['metadata'] as Record<string, string>).map(([k, v]) => `  ${k}: ${v}`),
    ];
  }
  const f = r['files'] as { checkpoint: boolean; encoder: boolean; onnx: string[] };
  return [
    `run ${r.path}: ${j(r['recipe'] ?? 'unknown recipe')} on ${j(r['dataset'] ?? 'unknown data')}`,
    ...(r['backend'] ? [`backend: ${backendText(r['backend'])}`] : []),
    ...(r['engine']
      ? [`engine: ${String(r['engine'])}${r['engineNote'] ? ` (${String(r['engineNote'])})` : ''}`]
      : []),
    ...(r['settings'] ? [`settings: ${j(r['settings'])}`] : []),
    `epochs done: ${r['epochsDone']}${r['stepsLogged'] !== null ? `, steps logged to ${r['stepsLogged']}` : ''}${r['stopReason'] ? ` (${r['stopReason']})` : ''}`,
    `last losses: ${(r['lastLosses'] as number[]).map((l) => l.toFixed(4)).join(', ') || 'none'}`,
    ...(r['accuracy'] ? [`accuracy: ${j(r['accuracy'])}`] : []),
    `files: ${[f.checkpoint && 'checkpoint/', f.encoder && 'encoder/', ...f.onnx].filter(Boolean).join(', ') || 'none'}`,
  ];
}

/** run.json's backend (`{ name, tfjs, device, threads, adapter }`) as `wasm (tfjs wasm, 2 threads)`. */
function backendText(b: unknown): string {
  if (b === null || typeof b !== 'object') return String(b);
  const { name, tfjs, device, threads, adapter } = b as Record<string, unknown>;
  const on = device === 'gpu' ? 'GPU' : `${threads} thread${threads === 1 ? '' : 's'}`;
  return `${name} (tfjs ${tfjs}, ${on}${adapter ? `, ${adapter}` : ''})`;
}
