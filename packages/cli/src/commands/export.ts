import { exportOnnx, saveOnnx, writeTritonRepository } from '@ebmjs/export';
import { choiceFlag, numberFlag, parseFlags, requirePath } from '../args.js';
import { loadRunEncoder } from '../run-dir.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const OPTIONS = {
  out: { type: 'string' },
  opset: { type: 'string' },
  layout: { type: 'string' },
  normalize: { type: 'boolean', default: false },
  fp16: { type: 'boolean', default: false },
  triton: { type: 'string' },
  name: { type: 'string' },
  'max-batch': { type: 'string' },
  'triton-device': { type: 'string' },
} as const;

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a trained encoder to ONNX',
  help: [
    'Usage: ebm export <run-dir|encoder-dir> --out model.onnx [options]',
    '       ebm export <run-dir|encoder-dir> --triton <repo-dir> [--out model.onnx] [options]',
    '',
    'Options:',
    '  --out <file>         where to write the model (written atomically)',
    '  --opset <n>          ONNX opset (default 17)',
    '  --layout <NHWC|NCHW> input layout (default NHWC, as tfjs)',
    '  --normalize          L2-normalise the output embeddings',
    '  --fp16               store weights as float16',
    '  --triton <repo-dir>  also (or only) write a Triton model repository entry:',
    '                       <repo-dir>/<name>/config.pbtxt and <name>/1/model.onnx',
    '  --name <model>       Triton model name (default: --out file name, else the run directory name)',
    '  --max-batch <n>      Triton max_batch_size (default 64)',
    '  --triton-device <gpu|cpu|auto>  instance_group kind (default: Triton decides)',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS, { positionals: 1 });
    const path = flags.positionals[0];
    const out = flags.string('out');
    if (path === undefined)
      throw new CliUsageError('missing run directory: ebm export <run-dir> --out model.onnx.');
    const triton = flags.string('triton');
    if (out === undefined && triton === undefined)
      throw new CliUsageError('missing --out <file.onnx> (or --triton <repo-dir>).');
    if (triton === undefined) {
      for (const f of ['name', 'max-batch', 'triton-device']) {
        if (flags.string(f) !== undefined)
          throw new CliUsageError(`--${f} needs --triton <repo-dir>.`);
      }
    }
    const maxBatchSize = numberFlag(flags.string('max-batch'), 'max-batch', {
      integer: true,
      min: 0,
    });
    const tritonDevice = choiceFlag(flags.string('triton-device'), 'triton-device', [
      'gpu',
      'cpu',
      'auto',
    ] as const);
    const opset = numberFlag(flags.string('opset'), 'opset', { integer: true, min: 1 });
    const layout = choiceFlag(flags.string('layout'), 'layout', ['NHWC', 'NCHW'] as const);
    await requirePath(path, 'run or encoder directory', 'directory');
    const { encoder, info } = await loadRunEncoder(path);
    const options = {
      opset,
      layout,
      normalize: flags.bool('normalize'),
      float16: flags.bool('fp16'),
      recipe: info?.recipe,
      preprocessing: { scale: 1 / 255, mean: 0, std: 1 },
    };
    try {
      if (out !== undefined) {
        const bytes = await saveOnnx(encoder.model, out, options);
        io.out(
          `wrote ${out} (${(bytes / 1024).toFixed(1)} KiB, embedding dim ${encoder.embeddingDim})`,
        );
      }
      if (triton !== undefined) {
        const name = flags.string('name') ?? tritonName(out ?? path);
        // With --out the file just written is the model (one export); else export to bytes.
        const model = out ?? (await exportOnnx(encoder.model, options));
        const repo = await writeTritonRepository(model, triton, {
          name,
          ...(maxBatchSize !== undefined ? { maxBatchSize } : {}),
          ...(tritonDevice ? { instanceGroup: { kind: tritonDevice } } : {}),
        });
        io.out(`wrote Triton model "${name}": ${repo.configPath}, ${repo.modelPath}`);
      }
    } finally {
      encoder.model.dispose();
    }
    return 0;
  },
};

/** A Triton model name from a file or directory path: its base name without .onnx, made safe. */
function tritonName(path: string): string {
  const base =
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? '';
  const name = base.replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^\.*$/.test(name) ? 'encoder' : name;
}
